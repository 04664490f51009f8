"""Plain text from a feed's summary or content HTML, used when page extraction fails.

lxml parses the fragment with network access, entities and processing instructions disabled;
scripts and styles are dropped; block elements become paragraph breaks.
"""

from __future__ import annotations

import re

from lxml import etree, html

_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}
_PARSER = html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def html_to_text(fragment: str) -> str:
    """Paragraph-separated plain text of an HTML fragment ('' if there is none)."""
    if not fragment.strip():
        return ""
    if "<" not in fragment:
        return re.sub(r"[ \t]+", " ", fragment).strip()
    try:
        root = html.fragment_fromstring(fragment, create_parent="div", parser=_PARSER)
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]*>", " ", fragment).strip()
    for bad in root.xpath(".//script|.//style|.//noscript"):
        bad.drop_tree()
    parts: list[str] = []
    for node in root.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _BLOCKS:
            parts.append("\n\n")
        if node.text and tag not in ("script", "style"):
            parts.append(node.text)
        if node is not root and node.tail:
            parts.append(("\n\n" if tag in _BLOCKS else "") + node.tail)
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parts))
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n\n".join(paragraphs)
