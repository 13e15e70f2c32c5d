"""The HTML side of kb: the search page, article pages and the widget's files.

- ``GET /?q=&page=``: a search page that works with JavaScript turned off: a
  plain ``<form method=get>``, ten results a page with previous/next links, the
  answer card and "did you mean" when the search has them.
- ``GET /articles/{slug}`` serves the article page to clients that rank
  ``text/html`` above ``application/json`` in ``Accept`` (browsers); everyone
  else (no ``Accept``, ``*/*``, ``application/json``) gets the JSON of
  :class:`kb.web.ArticlesResource`, unchanged.  The page's heading ids are the
  search anchors, so a result's deep link lands on its FAQ entry.
- ``GET /widget.js``, ``GET /widget.css``: the embeddable search box;
  ``GET /favicon.ico``: the icon browsers ask for.

Every page is a Jinja2 template with autoescape on.  Only the article body
rendered by :func:`kb.articles.render_html` (which escapes raw HTML) is inserted
with ``|safe``; kb's highlighted snippets go through :func:`marked`, which keeps
``<mark>`` and nothing else.  HTML pages also carry a Content-Security-Policy
that allows no inline script.
"""

import html
import re
from importlib import resources
from urllib.parse import urlencode

import falcon
import jinja2
import markupsafe

from .caching import strong_etag, wants_html
from .errors import BadQuery, IndexMissing, NotFound
from .params import int_param, single
from .presentation import did_you_mean_body
from .search import MAX_OFFSET
from .urls import safe_url

PAGE_SIZE = 10
MAX_PAGE = MAX_OFFSET // PAGE_SIZE
#: Applied to every HTML page: no script but kb's own, no inline script, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)

_MARK_TAG = re.compile(r"(</?mark>)")


def marked(html_text):
    """kb's highlighted HTML made safe to insert: ``<mark>`` tags kept, all else text.

    Snippets are already escaped by kb; this re-escapes each piece between the
    tags, so a stray tag from anywhere would show as text, never run.

    >>> str(marked('a <mark>b</mark> &amp; <img src=x>'))
    'a <mark>b</mark> &amp; &lt;img src=x&gt;'
    """
    parts = _MARK_TAG.split(html_text or "")
    return markupsafe.Markup(
        "".join(p if i % 2 else html.escape(html.unescape(p), quote=False) for i, p in enumerate(parts))
    )


def link(url):
    """``url`` if :func:`kb.urls.safe_url` allows it, else ``#``: no ``javascript:`` links."""
    return safe_url(url) or "#"


_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("kb", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters["marked"] = marked
_templates.filters["link"] = link


def _render(req, resp, template, status=falcon.HTTP_200, **context):
    resp.status = status
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    resp.text = _templates.get_template(template).render({"root": req.root_path, "q": "", **context})


def _error_page(req, resp, status, message, q=""):
    _render(req, resp, "error.html", status=status, message=message, q=q)


def error_page(req, resp, status, message):
    """An HTML error page (:mod:`kb.web` shows it to a browser asking for an unknown path)."""
    _error_page(req, resp, status, message)


class SearchPage:
    """``GET /?q=&page=``: server-rendered search results, ten a page."""

    def __init__(self, engine):
        self.engine = engine

    def on_get(self, req, resp):
        try:
            q = (single(req, "q") or "").strip()
            page = int_param(req, "page", 1, 1, MAX_PAGE)
        except BadQuery as e:  # q or page given twice; page blank, not a number or out of range
            q = (req.get_param("q") or "").strip()
            message = e.message
            if e.parameter == "page" and not isinstance(req.params.get("page"), list):
                message = f"page must be a whole number from 1 to {MAX_PAGE}."
            return _error_page(req, resp, falcon.HTTP_400, message, q)
        if not q:
            return _render(req, resp, "search.html", results=None, page=1)
        try:
            results = self.engine.search(q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        except BadQuery as e:
            return _error_page(req, resp, falcon.HTTP_400, e.message, q)
        except IndexMissing:
            resp.set_header("Retry-After", "30")
            return _error_page(req, resp, falcon.HTTP_503, "Search is not available yet: the index is being built.", q)
        resp.context.kb_generation = results.generation
        resp.context.kb_log = results.log_fields()
        resp.context.kb_results = results  # counted by kb.web_admin.AnalyticsMiddleware
        pages = max(1, -(-results.total // PAGE_SIZE))

        def page_url(n, query=q):
            return f"{req.root_path}/?" + urlencode({"q": query, **({"page": n} if n > 1 else {})})

        answer = results.answer if page == 1 else None
        did_you_mean = results.did_you_mean and {
            **did_you_mean_body(results.did_you_mean),
            "href": page_url(1, results.did_you_mean.query),
        }
        _render(
            req,
            resp,
            "search.html",
            q=q,
            page=page,
            pages=pages,
            results=results,
            # the answer card is the first thing read: its entry is not repeated below it
            hits=[h.as_dict() for h in results.hits if not (answer and h.id == answer.id)],
            first=(page - 1) * PAGE_SIZE + 1,
            prev_url=page_url(page - 1) if page > 1 else None,
            next_url=page_url(page + 1) if page < pages else None,
            first_url=page_url(1),
            answer=answer,
            notice=results.notice,
            did_you_mean=did_you_mean,
            unmatched=results.unmatched,
            confidence=results.confidence,
        )


class ArticlePage:
    """``GET /articles/{slug}``: the article page for browsers, JSON for the rest.

    :param api: the JSON resource (:class:`kb.web.ArticlesResource`) answering
        clients that do not prefer HTML.
    """

    def __init__(self, engine, api):
        self.engine = engine
        self.api = api

    def on_get_item(self, req, resp, slug):
        if not wants_html(req):
            return self.api.on_get_item(req, resp, slug)
        try:
            article = self.engine.article(slug)
        except NotFound:
            return _error_page(req, resp, falcon.HTTP_404, "There is no article at this address.")
        except IndexMissing:
            resp.set_header("Retry-After", "30")
            return _error_page(req, resp, falcon.HTTP_503, "Articles are not available yet: the index is being built.")
        resp.context.kb_generation = article.get("generation")
        # The article's own "# Title" heads the page; else one is made of its title.
        html_text = article["html"].lstrip()
        title_html, body_html = "", html_text
        if html_text.startswith("<h1"):
            head, end, rest = html_text.partition("</h1>")
            title_html, body_html = head + end, rest
        _render(req, resp, "article.html", article=article, title_html=title_html, body_html=body_html)


class StaticFile:
    """A file of ``kb/static`` served whole, with a strong ETag of its bytes."""

    def __init__(self, name, content_type):
        self.data = resources.files("kb").joinpath("static", name).read_bytes()
        self.content_type = content_type
        self.etag = strong_etag(self.data)

    def on_get(self, req, resp):
        resp.content_type = self.content_type
        resp.etag = self.etag
        resp.data = self.data
        # Any page may load the widget, so it must not be blocked by CORP.
        resp.set_header("Cross-Origin-Resource-Policy", "cross-origin")


def add_routes(app, engine):
    """Register the search page, the widget's files and the icon on ``app``.

    (``/articles/{slug}`` is registered by :func:`kb.web.create_app`, as an
    :class:`ArticlePage` around the JSON resource.)
    """
    app.add_route("/", SearchPage(engine))
    app.add_route("/widget.js", StaticFile("widget.js", "text/javascript; charset=utf-8"))
    app.add_route("/widget.css", StaticFile("widget.css", "text/css; charset=utf-8"))
    app.add_route("/favicon.ico", StaticFile("favicon.ico", "image/x-icon"))
