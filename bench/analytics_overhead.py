"""What search analytics cost a ``GET /search``: the same requests with KB_ANALYTICS on and off.

    nice -n 10 python -m bench.analytics_overhead --corpus ../shared/corpus/medquad

Builds an index of the first ``--articles`` corpus files in a temporary
directory, then sends each query (article titles, lower-cased, some cut to a
prefix as typed) through two apps that share one uncached engine, one with
analytics on, one off, alternating which goes first; prints the median and p95
per request of each, their difference, the cost of one
:meth:`kb.analytics.Recorder.search` call, and of writing a second of tallies.
Figures on MedQuAD (Ben Abacha & Demner-Fushman 2019, CC BY 4.0).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from falcon import testing

from kb import analytics
from kb.config import Config
from kb.indexer import build
from kb.search import Engine
from kb.web import create_app

from .queries import article_files, read_corpus_text


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--articles", type=int, default=800)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    files = article_files(args.corpus, args.articles)
    titles = read_corpus_text(files).titles
    queries = []
    for i, title in enumerate(titles[: args.queries]):
        q = title.lower()
        queries.append(q[: max(3, len(q) * 2 // 3)] if i % 3 == 0 else q)

    with tempfile.TemporaryDirectory(prefix="kb-bench-analytics-") as tmp:
        tmp = Path(tmp)
        articles = tmp / "articles"
        articles.mkdir()
        for f in files:
            (articles / f.name).symlink_to(f.resolve())
        print(build(articles, tmp / "index").summary())
        engine = Engine(tmp / "index", cache_mb=0)
        on = Config(articles_dir=articles, index_dir=tmp / "index", data_dir=tmp / "data")
        clients = {
            "on": testing.TestClient(create_app(on, engine)),
            "off": testing.TestClient(create_app(on.with_overrides(analytics=False), engine)),
        }
        for q in queries[:50]:  # warm up both
            for c in clients.values():
                c.simulate_get("/search", params={"q": q})
        times = {"on": [], "off": []}
        for r in range(args.rounds):
            for i, q in enumerate(queries):
                order = ("on", "off") if (i + r) % 2 else ("off", "on")
                for name in order:
                    started = time.perf_counter()
                    resp = clients[name].simulate_get("/search", params={"q": q})
                    times[name].append((time.perf_counter() - started) * 1000)
                    assert resp.status_code == 200
        analytics.flush_all()
        rows = analytics.report(on.data_dir / analytics.DB_NAME, min_count=1)["totals"]["searches"]

        recorder = analytics.Recorder(tmp / "micro.sqlite3")
        n = 100_000
        started = time.perf_counter()
        for i in range(n):
            recorder.search(queries[i % len(queries)], 3, "high")
        per_call_us = (time.perf_counter() - started) / n * 1e6
        distinct = analytics.Recorder(tmp / "flush.sqlite3")
        for i in range(1000):
            distinct.search(f"query number {i}", i % 3, "low")
            distinct.click(f"query number {i}", "doc", 1)
        started = time.perf_counter()
        distinct.flush()
        flush_ms = (time.perf_counter() - started) * 1000

    print(f"{len(queries)} queries x {args.rounds} rounds per app, {args.articles} articles, uncached engine")
    for name in ("off", "on"):
        t = times[name]
        print(f"analytics {name:>3}: median {statistics.median(t):.3f} ms, p95 {pct(t, 95):.3f} ms")
    diff = statistics.median(times["on"]) - statistics.median(times["off"])
    print(f"difference of medians: {diff * 1000:+.0f} us ({diff / statistics.median(times['off']) * 100:+.1f} %)")
    print(f"searches recorded by the 'on' app: {rows}")
    print(f"Recorder.search(): {per_call_us:.2f} us a call (in-memory tally)")
    print(f"writing 1,000 distinct queries + 1,000 clicks in one transaction: {flush_ms:.1f} ms (background thread)")


if __name__ == "__main__":
    main()
