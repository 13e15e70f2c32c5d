"""Which URLs kb lets through: one rule for articles, the JSON API, pages and the widget.

A URL is safe when a browser would read it as one of the allowed schemes or as
a relative reference that stays on the same site.  What a browser does before
it reads a scheme is undone first (WHATWG URL parsing, and HTML attribute
decoding where the URL sits in HTML), so none of these get through::

    javascript:alert(1)        JaVaScRiPt:alert(1)     " javascript:alert(1)"
    java\\tscript:alert(1)      \\x01javascript:...      &#106;avascript:alert(1)
    javascript&colon;alert(1)  data:text/html,...      vbscript:msgbox(1)
    //evil.example/x           \\\\evil.example/x        /\\evil.example/x

:func:`safe_url` is the one check.  :data:`LINK_SCHEMES` is what article text
may link to; :data:`PAGE_SCHEMES` what an article's own ``url`` (front matter)
may be.  ``kb/static/widget.js`` applies the same rule in its ``safeUrl``.
"""

import html
import re

#: Schemes a link in an article may use (besides relative references).
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
#: Schemes an article's ``url`` may use (besides relative paths).
PAGE_SCHEMES = frozenset({"http", "https"})

# Browsers drop ASCII tab and newline anywhere in a URL and strip C0 controls
# and spaces at both ends; kb refuses any URL holding a control character.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
# Two slashes or backslashes in any mix: another host ("protocol-relative").
_OTHER_HOST = re.compile(r"[/\\]{2}")
# What follows "http:": two slashes (or backslashes), then a host.
_HOST = re.compile(r"[/\\]{2}[^/\\]")


def _decoded(url):
    """``url`` as a browser may end up reading it: HTML entities decoded, to a fixpoint."""
    for _ in range(4):
        decoded = html.unescape(url)
        if decoded == url:
            break
        url = decoded
    return url


def safe_url(url, schemes=LINK_SCHEMES):
    """``url`` unchanged if it is safe to put in an ``href`` or ``src``, else None.

    Safe means: a relative reference that does not name another host
    (``/articles/x``, ``x#faq``, ``?q=a``, ``#top``), or an absolute URL whose
    scheme is in ``schemes`` (and, for http and https, that names a host).

    :param url: the URL as written (in Markdown, front matter or JSON).
    :param schemes: the allowed schemes, lower-case.

    >>> safe_url("/articles/ivf#faq")
    '/articles/ivf#faq'
    >>> safe_url("https://example.org/a")
    'https://example.org/a'
    >>> safe_url("&#106;avascript:alert(1)") is None
    True
    >>> safe_url("//evil.example/x") is None
    True
    """
    if not isinstance(url, str):
        return None
    decoded = _decoded(url)
    if _CONTROL.search(decoded):
        return None
    text = decoded.strip(" ")
    m = _SCHEME.match(text)
    if m is None:
        return None if _OTHER_HOST.match(text) else url
    scheme = m.group(1).lower()
    if scheme not in schemes:
        return None
    if scheme in ("http", "https") and not _HOST.match(text, m.end()):
        return None  # "http:x" or "http:///x": no host
    return url


def check_page_url(url):
    """What is wrong with an article's front-matter ``url``, or None if it is fine."""
    if safe_url(url, PAGE_SCHEMES) is None:
        shown = url if len(url) <= 60 else url[:57] + "..."
        return f"url must be a relative path or an http(s) URL, not {shown!r}"
    return None


def clean_links(root, amp=None):
    """Drop every unsafe ``href`` and ``src`` in an ElementTree, in place.

    A link that loses its ``href`` stays as text; an image that loses its
    ``src`` shows its ``alt`` text.

    :param root: the root element (Python-Markdown's tree before serialising).
    :param amp: a placeholder that stands for ``&`` in the tree's attributes
        (Python-Markdown's ``AMP_SUBSTITUTE``), decoded before checking.
    """
    for element in root.iter():
        for attribute in ("href", "src"):
            value = element.get(attribute)
            if value is None:
                continue
            if safe_url(value.replace(amp, "&") if amp else value) is None:
                del element.attrib[attribute]


def safe_document_urls(stored):
    """A stored document whose URLs are safe: unchanged, or a copy with kb's own URL.

    New generations never hold an unsafe ``url`` (the parser refuses it); this
    guards answers from a generation built before that check.  The fallback is
    the URL kb gives an article without one: ``/articles/<slug>`` (plus the
    document's ``#anchor``).
    """
    fixed = {}
    base = f"/articles/{stored.get('slug', '')}"
    url = stored.get("url")
    if url is not None and safe_url(url, PAGE_SCHEMES) is None:
        fixed["url"] = f"{base}#{stored['anchor']}" if stored.get("anchor") else base
    meta = stored.get("meta")
    if isinstance(meta, dict) and "url" in meta and safe_url(meta["url"], PAGE_SCHEMES) is None:
        fixed["meta"] = {**meta, "url": base}
    return {**stored, **fixed} if fixed else stored
