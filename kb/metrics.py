"""``GET /metrics``: Prometheus text format from prometheus-client, across worker processes.

``kb serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh temporary
directory before its workers start (:func:`kb.serving.metrics_dir`) and removes it
when it stops, so the counters and histograms of every worker, and those of
workers that have died, are summed in each scrape, whichever worker answers
it.  Without that variable (tests, ``waitress-serve``) the metrics are this
process's own.

No label carries query text, an address or a user agent: routes are URL
templates (``/articles/{slug}``), never paths.
"""

import os
import threading
import time
from calendar import timegm

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("kb_http_requests", "HTTP requests answered, by route and status.", ["route", "status"])
LATENCY = Histogram(
    "kb_http_request_duration_seconds",
    "Time from request to response inside kb, by route.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RESULTS = Histogram(
    "kb_search_results",
    "Matching documents (or articles, with group=article) per answered /search query.",
    buckets=(0, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000),
)
ZERO_RESULTS = Counter("kb_search_zero_results", "Answered /search queries that matched nothing.")
CACHE_LOOKUPS = Counter("kb_result_cache_lookups", "Result-cache lookups by /search, hit or miss.", ["result"])
CACHE_BYTES = Gauge(
    "kb_result_cache_bytes", "Bytes held by the result caches of the live workers.", multiprocess_mode="livesum"
)
WORKER_RESTARTS = Counter("kb_worker_restarts", "Workers started by kb serve to replace one that died.")


def _route(req):
    return req.uri_template or "(unmatched)"


class MetricsMiddleware:
    """Counts and times every request; /search answers feed the result metrics."""

    def __init__(self, engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._seen = (0, 0)  # cache hits and misses already counted

    def process_request(self, req, resp):
        req.context.kb_metrics_started = time.perf_counter()

    def process_response(self, req, resp, resource, req_succeeded):
        route = _route(req)
        started = getattr(req.context, "kb_metrics_started", None)
        if started is not None:
            LATENCY.labels(route).observe(time.perf_counter() - started)
        REQUESTS.labels(route, str(resp.status_code)).inc()
        if route == "/search" and resp.status_code == 200 and isinstance(resp.media, dict):
            total = resp.media.get("total", 0)
            RESULTS.observe(total)
            if total == 0:
                ZERO_RESULTS.inc()
            self._count_cache()

    def _count_cache(self):
        hits, misses, held = self.engine.cache_stats()
        with self._lock:
            seen_hits, seen_misses = self._seen
            self._seen = (max(hits, seen_hits), max(misses, seen_misses))
        if hits > seen_hits:
            CACHE_LOOKUPS.labels("hit").inc(hits - seen_hits)
        if misses > seen_misses:
            CACHE_LOOKUPS.labels("miss").inc(misses - seen_misses)
        CACHE_BYTES.set(held)


class GenerationCollector:
    """The generation this worker serves: its name, age, build duration and problems, read at scrape time."""

    def __init__(self, engine):
        self.engine = engine

    def collect(self):
        try:
            health = self.engine.health()
        except Exception:  # no index yet: nothing to report
            return
        info = GaugeMetricFamily("kb_generation_info", "The index generation being served.", labels=["generation"])
        info.add_metric([health["generation"]], 1)
        yield info
        built = _timestamp(health.get("built_at"))
        if built is not None:
            yield GaugeMetricFamily("kb_generation_built_timestamp_seconds", "When it was built (Unix time).", built)
            yield GaugeMetricFamily("kb_generation_age_seconds", "Seconds since it was built.", time.time() - built)
        if health.get("build_seconds") is not None:
            yield GaugeMetricFamily("kb_build_duration_seconds", "How long its build took.", health["build_seconds"])
        yield GaugeMetricFamily("kb_build_problems", "Articles its build reported as broken.", health["problems"])
        yield GaugeMetricFamily("kb_generation_documents", "Documents it holds.", health["documents"])


def _timestamp(iso):
    try:
        return float(timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return None


class MetricsResource:
    """``GET /metrics``: every worker's metrics in Prometheus text format."""

    def __init__(self, engine):
        self.generation = GenerationCollector(engine)

    def on_get(self, req, resp):
        registry = CollectorRegistry()
        if os.environ.get(ENV):
            multiprocess.MultiProcessCollector(registry)  # every worker's files, the dead ones' too
        else:
            registry.register(_Forward(REGISTRY))
        registry.register(self.generation)
        resp.data = generate_latest(registry)
        resp.content_type = CONTENT_TYPE_LATEST
        resp.cache_control = ["no-store"]


class _Forward:
    """A registry's metrics, registered into another registry (one process, no multiprocess dir)."""

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def add_routes(app, engine):
    """``/metrics``; the middleware is added by :func:`kb.web.create_app`."""
    app.add_route("/metrics", MetricsResource(engine))


def worker_exited(pid):
    """Forget a dead worker's live gauges (its counters still count)."""
    if os.environ.get(ENV):
        multiprocess.mark_process_dead(pid)
