"""Does a same-site link look like an article? URL shape and anchor text, no network.

A link is refused when its path or query marks it as navigation (tags, categories, authors,
pagination, search, login, feeds, legal pages), a media file or the site's front page. It is
accepted when its URL carries an article signal (a date, a multi-word slug, a long numeric
id) or, failing that, when a headline-like anchor points at a two-word-or-longer slug.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MEDIA = _words(
    """jpg jpeg png gif webp svg ico bmp tif tiff avif heic mp3 mp4 m4a m4v wav ogg oga webm mov
    avi mkv flv pdf zip gz tgz rar 7z exe dmg apk doc docx xls xlsx ppt pptx odt csv css js json
    xml rss atom rdf txt epub ics vcf woff woff2 ttf eot"""
)
NAV_SEGMENTS = _words(
    """tag tags category categories categorie categoria rubrique rubriques topic topics theme
    themes section sections author authors auteur auteurs autor writer writers contributor
    contributors page pages search recherche buscar login logout signin sign-in signup sign-up
    register inscription connexion subscribe subscription subscriptions abonnement abonnements
    account accounts compte user users profile profil member members feed feeds rss atom about
    about-us a-propos qui-sommes-nous contact contact-us contactez-nous privacy privacy-policy
    confidentialite terms terms-of-use terms-of-service conditions cgu cookies cookie-policy
    legal mentions-legales imprint impressum newsletter newsletters archive archives cart shop
    store donate don jobs careers emplois advertise advertising publicite wp-admin wp-login.php
    wp-json wp-content cdn-cgi xmlrpc.php static assets media uploads api oauth auth share
    sharer print amp comments comment reply calendar help faq sitemap site-map plan-du-site index
    home accueil
    lang language languages edition editions"""
)
NAV_QUERY = _words(
    """page p pg paged offset start sort order orderby filter s q query search lang hl
    replytocom share print output format amp view"""
)
SOCIAL_HOSTS = _words(
    """facebook.com twitter.com x.com t.co linkedin.com instagram.com youtube.com youtu.be
    tiktok.com whatsapp.com wa.me telegram.me t.me pinterest.com reddit.com threads.net bsky.app
    mastodon.social"""
)
NAV_TEXT = frozenset(
    {
        "next",
        "previous",
        "prev",
        "older",
        "newer",
        "more",
        "read more",
        "home",
        "menu",
        "login",
        "log in",
        "sign in",
        "subscribe",
        "share",
        "suivant",
        "précédent",
        "lire la suite",
        "plus",
    }
)
_DATE = re.compile(r"/(19|20)\d{2}[/-](0?[1-9]|1[0-2])([/-]|$)|/(19|20)\d{6}(/|$|[-_])")
_LONG_ID = re.compile(r"(^|[^0-9])\d{5,}([^0-9]|$)")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _segments(path: str) -> list[str]:
    return [s for s in unquote(path).lower().split("/") if s]


def _slug_words(segment: str) -> int:
    stem = segment.rsplit(".", 1)[0] if "." in segment else segment
    return len(_WORD.findall(stem.replace("_", "-")))


def is_social(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return any(host == h or host.endswith("." + h) for h in SOCIAL_HOSTS)


def refused(url: str) -> str | None:
    """Why `url` is certainly not an article (a short reason), or None."""
    parts = urlsplit(url)
    segments = _segments(parts.path)
    if not segments:
        return "front page"
    last = segments[-1]
    if "." in last and last.rsplit(".", 1)[1] in MEDIA:
        return "file"
    if any(s in NAV_SEGMENTS for s in segments):
        return "navigation"
    if last.isdigit() and len(last) < 4 and len(segments) >= 2:
        return "pagination"
    if any(k.lower() in NAV_QUERY for k, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return "navigation"
    if is_social(url):
        return "social"
    return None


def article_signal(url: str) -> bool:
    """A date, a long numeric id, or a slug of three or more words in the path."""
    path = unquote(urlsplit(url).path).lower()
    if _DATE.search(path):
        return True
    segments = _segments(path)
    last = segments[-1] if segments else ""
    if _LONG_ID.search(last):
        return True
    query = parse_qsl(urlsplit(url).query)
    if any(v.isdigit() and len(v) >= 4 and k.lower() not in NAV_QUERY for k, v in query):
        return True
    return _slug_words(last) >= 3


def headline_like(text: str) -> bool:
    words = text.split()
    return len(words) >= 4 and len(text) >= 20 and text.lower() not in NAV_TEXT


def looks_like_article(url: str, text: str) -> bool:
    if refused(url):
        return False
    if article_signal(url):
        return True
    last = _segments(urlsplit(url).path)[-1]
    return headline_like(text) and (_slug_words(last) >= 2 or _opaque_id(last))


def _opaque_id(segment: str) -> bool:
    """An id like `c7d2k9x4o1eo`: eight or more characters mixing letters and digits."""
    return (
        len(segment) >= 8 and segment.isalnum() and not segment.isalpha() and not segment.isdigit()
    )
