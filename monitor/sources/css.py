"""CSS selectors for listing areas, compiled with cssselect into XPath for lxml."""

from __future__ import annotations

from cssselect import GenericTranslator, SelectorError


def css_to_xpath(selector: str) -> str:
    """XPath for `selector`; raises ValueError with cssselect's reason when it is invalid."""
    try:
        return str(GenericTranslator().css_to_xpath(selector))
    except SelectorError as exc:
        raise ValueError(f"{selector!r} is not a CSS selector: {exc}") from None


def check_selector(selector: str) -> None:
    if len(selector) > 500:
        raise ValueError("CSS selector longer than 500 characters")
    css_to_xpath(selector)
