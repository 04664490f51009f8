"""URLs of entries found on pages and in sitemaps: tracking parameters removed, same-site tests.

Unlike monitor.fetch.urls.canonical_url (an identity key that also drops `www.`), `clean_url`
keeps a URL fetchable: only the fragment, the default port and tracking parameters go.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import extract_domain

from monitor.fetch.urls import TRACKING_KEYS, TRACKING_PREFIXES

MAX_URL = 2000
# Analytics parameters seen on listing pages besides the ones monitor.fetch.urls knows.
MORE_TRACKING_PREFIXES = ("ns_", "xtor", "wt_", "s_cid", "soc_", "__twitter")
MORE_TRACKING_KEYS = frozenset({"cmp", "campaign", "partner", "ncid", "sr_share", "guccounter"})


def _tracking(key: str) -> bool:
    lowered = key.lower()
    return (
        lowered.startswith(TRACKING_PREFIXES + MORE_TRACKING_PREFIXES)
        or lowered in TRACKING_KEYS
        or lowered in MORE_TRACKING_KEYS
    )


def clean_url(url: str) -> str | None:
    """`url` without fragment and tracking parameters; None unless it is a plausible http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or len(url) > MAX_URL:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _tracking(k)]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def site_key(url: str) -> str:
    """host[:port] without a leading `www.`, lower-cased."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and (parts.scheme, port) not in (("http", 80), ("https", 443)):
        return f"{host}:{port}"
    return host


def same_site(url: str, base: str) -> bool:
    """`url` is on the site of `base`: the same host, one of its subdomains, or a host of the
    same registered domain (`news.example.co.uk` and `www.example.co.uk`, by the public
    suffix list courlan ships; no lookup leaves the machine)."""
    host, home = site_key(url), site_key(base)
    if not host:
        return False
    if host == home or host.endswith("." + home):
        return True
    domain = extract_domain(url)
    return domain is not None and domain == extract_domain(base)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
