"""The HTTP API: Falcon resources that translate requests and errors, nothing more.

Run it with ``kb serve`` or ``waitress-serve --call kb.web:get_app``.
Every error is JSON of one shape::

    {"error": {"code": "bad_parameter", "message": "...", "parameter": "limit"}}
"""

import os
import time

import falcon

from . import __version__, metrics, pages, serving, web_admin
from .access import AccessLog, unexpected_error
from .caching import HttpCaching, wants_html
from .config import Config
from .errors import BadQuery, IndexMissing, NotFound
from .indexer import ensure_index
from .logs import configure_logging
from .openapi import OpenAPIResource
from .params import bool_param, int_param, single, typed
from .presentation import search_body
from .search import MAX_LIMIT, MAX_OFFSET, MAX_SUGGEST, Engine


class ApiError(falcon.HTTPError):
    """An HTTP error with kb's JSON body; ``parameter`` names the bad parameter."""

    def __init__(self, status, code, message, parameter=None, headers=None):
        super().__init__(status, title=code, description=message, headers=headers)
        self.parameter = parameter


class _Router(falcon.routing.CompiledRouter):
    """Falcon's router, with ``HEAD`` answered wherever ``GET`` is.

    Uptime monitors and link checkers send ``HEAD``; Falcon sends the headers
    of the ``GET`` answer without its body.
    """

    def map_http_methods(self, resource, **kwargs):
        methods = super().map_http_methods(resource, **kwargs)
        if "GET" in methods and "HEAD" not in methods:
            methods["HEAD"] = methods["GET"]
        return methods


def _serialize_error(req, resp, exc):
    """Every error, Falcon's own (404 route, 405) included, as kb's JSON shape.

    A browser (``Accept`` ranking HTML first) asking for a path that does not
    exist gets an HTML page instead.
    """
    if exc.status_code == 404 and wants_html(req):
        return pages.error_page(req, resp, exc.status, "There is nothing at this address.")
    code = exc.title if isinstance(exc, ApiError) else _code_for(exc)
    message = exc.description or {
        404: f"nothing at {req.path}",
        405: f"{req.method} is not allowed on {req.path}",
    }.get(exc.status_code, exc.title)
    error = {"code": code, "message": message}
    if getattr(exc, "parameter", None):
        error["parameter"] = exc.parameter
    resp.content_type = falcon.MEDIA_JSON
    resp.media = {"error": error}


def _code_for(exc):
    return {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
        500: "internal_error",
    }.get(exc.status_code, exc.title.lower().replace(" ", "_"))


class SearchResource:
    """``GET /search?q=&limit=&offset=&kind=&group=&explain=``: ranked hits with snippets."""

    def __init__(self, engine):
        self.engine = engine

    def on_get(self, req, resp):
        q = single(req, "q")
        if q is None or not q.strip():
            raise BadQuery("q", "q is required and must not be empty: /search?q=your+words")
        limit = int_param(req, "limit", 10, 1, MAX_LIMIT)
        offset = int_param(req, "offset", 0, 0, MAX_OFFSET)
        kind = typed(req, "kind")
        group = typed(req, "group")
        explain = bool_param(req, "explain")
        results = self.engine.search(q, limit=limit, offset=offset, kind=kind, group=group, explain=explain)
        resp.media = search_body(results)
        resp.context.kb_log = results.log_fields()


class SuggestResource:
    """``GET /suggest?q=&limit=``: titles and FAQ questions completing what is typed."""

    def __init__(self, engine):
        self.engine = engine

    def on_get(self, req, resp):
        q = single(req, "q")
        if q is None:
            raise BadQuery("q", "q is required: /suggest?q=what+is+typed")
        limit = int_param(req, "limit", 8, 1, MAX_SUGGEST)
        started = time.perf_counter()
        suggestions = self.engine.suggest(q, limit=limit)
        resp.context.kb_log = {"results": len(suggestions)}
        resp.media = {
            "query": q,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
            "suggestions": suggestions,
        }


class ArticlesResource:
    """``GET /articles/{slug}``: one article's metadata, FAQ entries and HTML."""

    def __init__(self, engine):
        self.engine = engine

    def on_get_item(self, req, resp, slug):
        resp.media = self.engine.article(slug)


class HealthResource:
    """``GET /health``: the generation served, when it was built, its counts; whether this worker is ready."""

    def __init__(self, engine):
        self.engine = engine

    def on_get(self, req, resp):
        ready = not serving.DRAINING.is_set()  # a stopping worker: send visitors elsewhere
        resp.media = {**self.engine.health(), "version": __version__, "ready": ready, "pid": os.getpid()}
        if not ready:
            resp.status = falcon.HTTP_503


def _bad_query(req, resp, exc, params):
    raise ApiError(falcon.HTTP_400, "bad_parameter", exc.message, parameter=exc.parameter)


def _not_found(req, resp, exc, params):
    raise ApiError(falcon.HTTP_404, "not_found", str(exc))


def _index_missing(req, resp, exc, params):
    raise ApiError(
        falcon.HTTP_503,
        "index_missing",
        f"The search index has not been built yet. {IndexMissing.hint}",
        headers={"Retry-After": "30"},
    )


def create_app(config, engine=None):
    """The Falcon app for ``config`` (pass ``engine`` to share or fake one)."""
    engine = engine or Engine(config.index_dir, reload_seconds=config.reload_seconds, cache_mb=config.cache_mb)
    middleware = [
        metrics.MetricsMiddleware(engine),
        AccessLog(log_queries=config.log_queries),
        HttpCaching(engine, cors=bool(config.cors_origins)),
    ]
    if config.cors_origins:
        origins = "*" if "*" in config.cors_origins else list(config.cors_origins)
        middleware.append(falcon.CORSMiddleware(allow_origins=origins))
    admin = web_admin.Admin(config, engine)  # keys, analytics, the write API
    app = falcon.App(middleware=middleware, router=_Router())
    app.req_options.keep_blank_qs_values = True
    app.resp_options.secure_cookies_by_default = True
    app.set_error_serializer(_serialize_error)
    app.add_error_handler(Exception, unexpected_error)  # logged without the URL; first: the others are specific
    app.add_error_handler(BadQuery, _bad_query)
    app.add_error_handler(NotFound, _not_found)
    app.add_error_handler(IndexMissing, _index_missing)
    app.add_route("/search", SearchResource(engine))
    app.add_route("/suggest", SuggestResource(engine))
    # HTML for browsers, ArticlesResource's JSON for everyone else (kb/pages.py).
    # PUT/DELETE with a write key (kb/web_admin.py).
    article = admin.article_item(pages.ArticlePage(engine, ArticlesResource(engine)))
    app.add_route("/articles/{slug}", article, suffix="item")
    app.add_route("/health", HealthResource(engine))
    app.add_route("/openapi.json", OpenAPIResource())
    metrics.add_routes(app, engine)  # /metrics
    pages.add_routes(app, engine)  # /, /widget.js, /widget.css
    admin.install(app)  # /events, /analytics, /staff/analytics, /reindex; counts searches
    return app


def get_app():
    """The app as configured by ``KB_*`` variables, for ``waitress-serve --call``.

    Builds the index from the articles directory first if none exists yet.
    waitress-serve listens where its own ``--listen`` says (``KB_HOST`` and
    ``KB_PORT`` are for ``kb serve``).

    :raises KBError: there is neither an index nor an articles directory.
    """
    config = Config.from_env()
    configure_logging(config)
    ensure_index(config.articles_dir, config.index_dir)
    return create_app(config)
