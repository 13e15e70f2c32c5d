"""One access-log line per HTTP request, on the ``kb.web`` logger.

:class:`AccessLog` is the first middleware of :func:`kb.web.create_app`, so its
``process_response`` runs last and sees the final status (a 304 included).
A line holds::

    method, route (the URL template, e.g. /articles/{slug}: never the raw URL),
    status, duration_ms, generation, and what the resource adds in
    resp.context.kb_log: results (a search's total, a suggest's count),
    confidence, cache_hit

The query text is added (``query``) only when ``KB_LOG_QUERIES=1``; the URL,
its query string, IP addresses and user agents never are.  :func:`unexpected_error`
replaces Falcon's handler of unexpected exceptions, which writes the URL.
"""

import logging
import time
import traceback

import falcon

log = logging.getLogger("kb.web")


class AccessLog:
    """Falcon middleware writing the access line (see the module doc).

    :param log_queries: add the ``q`` parameter's text to each line.
    """

    def __init__(self, log_queries=False):
        self.log_queries = log_queries

    def process_request(self, req, resp):
        req.context.kb_started = time.perf_counter()
        req.context.kb_log_queries = self.log_queries

    def process_response(self, req, resp, resource, req_succeeded):
        if not log.isEnabledFor(logging.INFO):
            return
        started = getattr(req.context, "kb_started", None)
        media = resp.media if isinstance(resp.media, dict) else {}
        generation = (
            getattr(resp.context, "kb_generation", None)
            or media.get("generation")
            or getattr(req.context, "kb_generation", None)
        )
        fields = {
            "method": req.method,
            "route": req.uri_template,
            "status": resp.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "generation": generation,
            "results": None,
            "confidence": None,
            "cache_hit": None,
        }
        fields.update(getattr(resp.context, "kb_log", None) or {})
        if self.log_queries:
            q = req.params.get("q")
            fields["query"] = q if isinstance(q, (str, type(None))) else list(q)
        log.info("request", extra=fields)


def unexpected_error(req, resp, error, params):
    """The handler of any exception no other handler took: logged, then a JSON 500.

    Falcon's own handler writes the traceback with the URL, query string
    included, to the server's error stream; this one logs on ``kb.web`` with the
    route only, and the exception's type and frames but not its message (which
    may quote what was typed) unless ``KB_LOG_QUERIES=1``.
    """
    fields = {"method": req.method, "route": req.uri_template, "error": type(error).__name__}
    if getattr(req.context, "kb_log_queries", False):
        log.error("unexpected error", exc_info=error, extra=fields)
    else:
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error("unexpected error", extra={**fields, "traceback": frames})
    raise falcon.HTTPInternalServerError()
