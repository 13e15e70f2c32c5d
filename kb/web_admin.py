"""The staff side of the HTTP interface: analytics, reports and the write API.

- ``POST /events``: the click and settled-search beacon of the widget and the
  search page (``navigator.sendBeacon``), carrying a query, and for a click the
  result id and its position; nothing else is accepted, nothing about the
  sender (address, user agent, cookies) is read.
- ``GET /search`` (unless ``live=1``, the widget's as-you-type requests) and the
  search page ``GET /?q=`` (page 1) count as searches: :class:`AnalyticsMiddleware`.
- ``GET /analytics`` (JSON) and ``GET /staff/analytics`` (an HTML page with a
  server-rendered SVG chart): the report of :func:`kb.analytics.report`; key
  scope ``analytics``.
- ``PUT``/``DELETE /articles/{slug}`` and ``POST /reindex``: :mod:`kb.writes`;
  key scope ``write``.  The answer comes once this process serves the new
  generation (other worker processes notice it within ``KB_RELOAD_SECONDS``).

Errors keep kb's one JSON shape; a rejected article adds its ``problems``.
"""

import json
import time

import falcon
import jinja2

from . import analytics, generations, writes
from .auth import ApiKeys, Forbidden, Unauthorized
from .errors import BadQuery, IndexBusy, IndexMissing
from .pages import CONTENT_SECURITY_POLICY
from .search import MAX_QUERY_CHARS

#: The widget's results per request (RESULT_LIMIT in widget.js).
WIDGET_LIMIT = 6
#: Largest ``POST /events`` body, in bytes.
MAX_EVENT_BYTES = 16_384
#: ``Retry-After`` of a write refused because another build ran too long.
BUSY_RETRY_SECONDS = 5
#: How long a write waits for this process to serve the new generation.
SERVE_WAIT_SECONDS = 10.0
BEARER_CHALLENGE = 'Bearer realm="kb"'
BASIC_CHALLENGE = 'Basic realm="kb staff", charset="UTF-8"'
NO_STORE = "no-store, private"

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("kb", "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
)


def _error(resp, status, code, message, headers=None, **extra):
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.media = {"error": {"code": code, "message": message, **extra}}
    for name, value in (headers or {}).items():
        resp.set_header(name, value)


def _unauthorized(req, resp, exc, params):
    challenge = getattr(req.context, "kb_challenge", BEARER_CHALLENGE)
    _error(resp, falcon.HTTP_401, "unauthorized", str(exc), {"WWW-Authenticate": challenge})


def _forbidden(req, resp, exc, params):
    _error(resp, falcon.HTTP_403, "forbidden", str(exc))


def _rejected(req, resp, exc, params):
    problems = [writes.problem_dict(p) for p in exc.problems]
    _error(resp, falcon.HTTP_422, "article_invalid", str(exc), problems=problems)


def _busy(req, resp, exc, params):
    _error(resp, falcon.HTTP_503, "index_busy", str(exc), {"Retry-After": str(BUSY_RETRY_SECONDS)})


def _int(req, name, default, low, high):
    raw = req.get_param(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(name, f"{name} must be a whole number, not {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadQuery(name, f"{name} must be between {low} and {high}")
    return value


class AnalyticsMiddleware:
    """Counts ``GET /search`` (offset 0, not ``live=1``) and the search page's first page.

    Only the query as searched and what the answer said (how many results, the
    confidence) reach the :class:`~kb.analytics.Recorder`; nothing of the request.
    """

    def __init__(self, recorder):
        self.recorder = recorder

    def process_resource(self, req, resp, resource, params):
        if req.path == "/search" and req.get_param(analytics.LIVE_PARAM) not in (None, "", "0", "1"):
            raise BadQuery(analytics.LIVE_PARAM, "live must be 0 or 1")

    def process_response(self, req, resp, resource, req_succeeded):
        if self.recorder is None or not req_succeeded or req.method != "GET" or resp.status_code != 200:
            return
        if req.path == "/search":
            media = resp.media
            if req.get_param(analytics.LIVE_PARAM) == "1" or not isinstance(media, dict) or media.get("offset"):
                return
            self.recorder.search(media.get("query", ""), media.get("total", 0), media.get("confidence"))
        elif req.path == "/":
            results = getattr(resp.context, "kb_results", None)
            if results is not None and not results.offset:
                self.recorder.search(results.query, results.total, results.confidence)


class EventsResource:
    """``POST /events``: ``{"type": "search", "q"}`` or ``{"type": "click", "q", "id", "position"}``."""

    FIELDS = {"search": {"type", "q"}, "click": {"type", "q", "id", "position"}}

    def __init__(self, engine, recorder):
        self.engine = engine
        self.recorder = recorder

    def on_post(self, req, resp):
        raw = req.bounded_stream.read(MAX_EVENT_BYTES + 1)
        if len(raw) > MAX_EVENT_BYTES:
            raise BadQuery("body", f"an event is at most {MAX_EVENT_BYTES} bytes")
        try:
            event = json.loads(raw)
        except ValueError:
            raise BadQuery("body", 'the body must be a JSON object, e.g. {"type": "search", "q": "ivf"}') from None
        if not isinstance(event, dict):
            raise BadQuery("body", "the body must be a JSON object")
        kind = event.get("type")
        if kind not in self.FIELDS:
            raise BadQuery("type", "type must be 'search' or 'click'")
        extra = sorted(set(event) - self.FIELDS[kind])
        if extra:
            raise BadQuery(extra[0], f"a {kind} event carries only {', '.join(sorted(self.FIELDS[kind]))}")
        q = event.get("q")
        if not isinstance(q, str) or not q.strip() or len(q) > MAX_QUERY_CHARS:
            raise BadQuery("q", f"q must be the query searched, 1 to {MAX_QUERY_CHARS} characters")
        if kind == "click":
            result_id, position = event.get("id"), event.get("position")
            if not isinstance(result_id, str) or not 0 < len(result_id) <= analytics.MAX_ID_CHARS:
                raise BadQuery("id", f"id must be the result's id, 1 to {analytics.MAX_ID_CHARS} characters")
            if type(position) is not int or not 0 <= position <= analytics.MAX_POSITION:
                raise BadQuery("position", f"position must be a whole number from 0 to {analytics.MAX_POSITION}")
            if self.recorder is not None:
                self.recorder.click(q, result_id, position)
        elif self.recorder is not None:
            try:
                # What the visitor saw: total and confidence (the widget's page
                # size, so the result cache usually answers).
                results = self.engine.search(q, limit=WIDGET_LIMIT)
            except IndexMissing:
                results = None
            if results is not None:
                self.recorder.search(results.query, results.total, results.confidence)
        resp.status = falcon.HTTP_204
        resp.cache_control = [NO_STORE]


class _Report:
    def __init__(self, settings, keys):
        self.settings = settings
        self.keys = keys

    def _report(self, req):
        if not self.settings.enabled:
            raise falcon.HTTPNotFound(description="search analytics are off (KB_ANALYTICS=off)")
        days = _int(req, "days", 30, 1, self.settings.retention_days)
        limit = _int(req, "limit", 20, 1, 100)
        return analytics.report(
            self.settings.path,
            days=days,
            min_count=self.settings.min_count,
            limit=limit,
            retention_days=self.settings.retention_days,
        )


class AnalyticsResource(_Report):
    """``GET /analytics?days=30&limit=20``: the report as JSON (key scope ``analytics``)."""

    def on_get(self, req, resp):
        self.keys.check(req.get_header("Authorization"), "analytics")
        resp.media = self._report(req)
        resp.cache_control = [NO_STORE]


class AnalyticsPage(_Report):
    """``GET /staff/analytics?days=30``: the report as a page, with a chart (key scope ``analytics``).

    A browser asks for a user name (any) and password (the key): HTTP Basic,
    accepted here only; the JSON endpoint takes ``Bearer`` alone.
    """

    def on_get(self, req, resp):
        req.context.kb_challenge = BASIC_CHALLENGE
        self.keys.check(req.get_header("Authorization"), "analytics", basic=True)
        rep = self._report(req)
        resp.content_type = falcon.MEDIA_HTML
        resp.cache_control = [NO_STORE]
        resp.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        resp.text = _templates.get_template("analytics.html").render(
            root=req.root_path,
            q="",
            report=rep,
            chart=chart(rep["daily"]),
            windows=[d for d in (7, 30, 90) if d <= self.settings.retention_days],
        )


def chart(daily, width=640, height=180, pad=32):
    """Geometry of the daily chart: a bar per day (searches), a line (zero-result rate).

    Drawn by the template as inline SVG; no script, nothing fetched.
    """
    n = max(1, len(daily))
    top = max([d["searches"] for d in daily] + [1])
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    step = inner_w / n
    bars, points = [], []
    for i, d in enumerate(daily):
        h = inner_h * d["searches"] / top
        x = pad + i * step
        bars.append(
            {
                "x": round(x + step * 0.1, 1),
                "y": round(pad + inner_h - h, 1),
                "w": round(step * 0.8, 1),
                "h": round(h, 1),
                "day": d["day"],
                "searches": d["searches"],
                "rate": d["zero_result_rate"],
            }
        )
        if d["zero_result_rate"] is not None:
            points.append(f"{x + step / 2:.1f},{pad + inner_h * (1 - d['zero_result_rate']):.1f}")
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "top": top,
        "bars": bars,
        "line": " ".join(points),
        "bottom": pad + inner_h,
    }


class ArticleItem:
    """``/articles/{slug}``: GET from the read resource; PUT and DELETE with a ``write`` key."""

    def __init__(self, read, config, engine, keys):
        self.read = read
        self.config = config
        self.engine = engine
        self.keys = keys

    def on_get_item(self, req, resp, slug):
        return self.read.on_get_item(req, resp, slug)

    def on_put_item(self, req, resp, slug):
        self.keys.check(req.get_header("Authorization"), "write")
        data = req.bounded_stream.read(writes.MAX_ARTICLE_BYTES + 1)
        result = writes.put_article(self.config.articles_dir, self.config.index_dir, slug, data)
        status = falcon.HTTP_201 if result.action == "created" else falcon.HTTP_200
        _answer(resp, result, self.engine, self.config.index_dir, status)

    def on_delete_item(self, req, resp, slug):
        self.keys.check(req.get_header("Authorization"), "write")
        result = writes.delete_article(self.config.articles_dir, self.config.index_dir, slug)
        _answer(resp, result, self.engine, self.config.index_dir)


class ReindexResource:
    """``POST /reindex?full=1``: build from the articles directory as it is (``write`` key)."""

    def __init__(self, config, engine, keys):
        self.config = config
        self.engine = engine
        self.keys = keys

    def on_post(self, req, resp):
        self.keys.check(req.get_header("Authorization"), "write")
        full = req.get_param("full") or "0"
        if full not in ("0", "1"):
            raise BadQuery("full", "full must be 0 or 1")
        result = writes.reindex(self.config.articles_dir, self.config.index_dir, full=full == "1")
        _answer(resp, result, self.engine, self.config.index_dir)


def _answer(resp, result, engine, index_dir, status=falcon.HTTP_200):
    """The build's JSON, once this process serves its generation (or a newer one)."""
    body = result.as_dict()
    body["served"] = _wait_served(engine, index_dir, result.report.generation)
    resp.status = status
    resp.media = body
    resp.cache_control = [NO_STORE]


def _wait_served(engine, index_dir, generation, timeout=SERVE_WAIT_SECONDS):
    """Wait until ``engine`` serves ``generation`` or the one published after it.

    Builds run one at a time and each reads every file, so a generation
    published after ours holds our change too: with concurrent writes, waiting
    for ours alone could wait for one that is never served.
    """
    deadline = time.monotonic() + timeout
    target = generation
    while time.monotonic() < deadline:
        if engine.wait_for_generation(target, timeout=0.2):
            return True
        target = generations.current_name(index_dir) or generation
    return False


class Admin:
    """The staff features of one app: keys, the analytics recorder, their routes.

    :raises ValueError: a malformed ``KB_API_KEYS``/``KB_ANALYTICS*`` setting.
    """

    def __init__(self, config, engine):
        self.config = config
        self.engine = engine
        self.settings = analytics.Settings.from_config(config)
        self.keys = ApiKeys.from_config(config)
        self.recorder = (
            analytics.Recorder(self.settings.path, self.settings.retention_days) if self.settings.enabled else None
        )

    def article_item(self, read):
        """The ``/articles/{slug}`` resource: ``read`` for GET, the write API for PUT/DELETE."""
        return ArticleItem(read, self.config, self.engine, self.keys)

    def install(self, app):
        """Add the analytics middleware, ``/events``, the reports, ``/reindex`` and the error handlers."""
        app.add_middleware(AnalyticsMiddleware(self.recorder))
        app.add_error_handler(Unauthorized, _unauthorized)
        app.add_error_handler(Forbidden, _forbidden)
        app.add_error_handler(writes.ArticleRejected, _rejected)
        app.add_error_handler(IndexBusy, _busy)
        app.add_route("/events", EventsResource(self.engine, self.recorder))
        app.add_route("/analytics", AnalyticsResource(self.settings, self.keys))
        app.add_route("/staff/analytics", AnalyticsPage(self.settings, self.keys))
        app.add_route("/reindex", ReindexResource(self.config, self.engine, self.keys))
