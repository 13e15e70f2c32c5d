"""Soak test: ``kb serve`` under hostile traffic, on a real corpus, bounded in time, loopback only.

Builds an index of the corpus (symbolic links in a temporary directory), starts
``python -m kb serve --workers N``, and runs one scenario after another while a
*probe* sends a fresh-connection ``/search`` every 100 ms and records how long
each answer took:

1. **baseline**: the probe alone.
2. **reindex loop**: 4 keep-alive clients searching while an article is edited
   and ``kb index`` run again and again.
3. **worker kill**: the same clients; one worker gets SIGKILL.  Reports how
   soon the supervisor forked a replacement and how soon it answered.
4. **slow headers**: 200 sockets each sending one header line every 2 s and
   never finishing (reconnecting when cut off).
5. **connection flood**: 500 connections opened at once, each sending one
   request and then holding its connection open (reopened when closed).
6. **unique long words**: 16,000 queries, each one unique 9,000-letter word.
7. **every article page**: each article's JSON once (HTML and stored-field caches).
8. **full result cache**: distinct ``limit=50&group=article`` queries, the
   largest answers kb gives, enough to fill every worker's result cache.

It prints one table: requests, failed answers, probe latency, the largest
worker's resident memory before and after, worker restarts (from ``/metrics``).

Example (from the repository root; about 6 minutes on 2 cores)::

    nice -n 10 python -m bench.soak --corpus ../shared/corpus/medquad

Figures on MedQuAD (Ben Abacha & Demner-Fushman 2019, CC BY 4.0) carry that attribution.
"""

import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from .load import HOST, Server, free_port, percentile, proc_status_kb
from .queries import SearchBoxPool, article_files, read_corpus_text
from .run import article_slug, edit_one_article, link_corpus, nonsense_word

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0  # seconds any one request may take before it counts as failed
LETTERS = bytes(ord("a") + b % 26 for b in range(256))  # os.urandom(n).translate(LETTERS): n random letters


def log(message):
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Tally:
    """Answers counted by several threads."""

    ok: int = 0
    failed: int = 0
    kinds: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ok, kind=None):
        with self.lock:
            if ok:
                self.ok += 1
            else:
                self.failed += 1
                self.kinds[kind] = self.kinds.get(kind, 0) + 1


def fetch(conn, path):
    """``GET path`` on ``conn``: ``(ok, failure kind)``; a 200 with a body is ok."""
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status == 200 and body:
            return True, None
        return False, f"HTTP {resp.status}"
    except (OSError, http.client.HTTPException) as e:
        return False, type(e).__name__


class Clients:
    """``n`` threads sending the paths of ``paths`` (cycling) on keep-alive connections."""

    def __init__(self, port, n, paths, cycle=True):
        self.port, self.paths, self.cycle = port, paths, cycle
        self.tally = Tally()
        self.stop = threading.Event()
        self._next = 0
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(n)]

    def _path(self):
        with self._lock:
            if self._next >= len(self.paths) and not self.cycle:
                return None
            path = self.paths[self._next % len(self.paths)]
            self._next += 1
            return path

    def _run(self):
        conn = None
        while not self.stop.is_set():
            path = self._path()
            if path is None:
                break
            conn = conn or http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
            ok, kind = fetch(conn, path)
            self.tally.add(ok, kind)
            if not ok:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(TIMEOUT + 5)

    def wait(self):
        for t in self.threads:
            t.join()


class Probe:
    """A fresh-connection ``/search`` every ``interval`` seconds; the latency of each answer."""

    def __init__(self, port, queries, interval=0.1):
        self.port, self.queries, self.interval = port, queries, interval
        self.latencies, self.failed = [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        n = 0
        while not self.stop.is_set():
            q = self.queries[n % len(self.queries)]
            n += 1
            started = time.perf_counter()
            conn = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
            ok, _ = fetch(conn, "/search?" + urlencode({"q": q}))
            conn.close()
            if ok:
                self.latencies.append(time.perf_counter() - started)
            else:
                self.failed += 1
            self.stop.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(TIMEOUT + 5)

    def summary(self):
        ms = sorted(x * 1000 for x in self.latencies)
        return {"n": len(ms) + self.failed, "p50": percentile(ms, 50), "p95": percentile(ms, 95), "max": max(ms or [0])}


# -- hostile clients ------------------------------------------------------------------


def slow_headers(port, n, seconds, stop_early=None):
    """``n`` sockets sending one header line every 2 s, never finishing; reconnects. Returns cuts."""
    socks, cut = [], 0

    def opened():
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall(b"GET /search?q=slow HTTP/1.1\r\nHost: kb\r\n")
        return s

    deadline = time.monotonic() + seconds
    try:
        for _ in range(n):
            socks.append(opened())
        line = 0
        while time.monotonic() < deadline:
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
            line += 1
            for i, s in enumerate(socks):
                try:
                    s.sendall(f"X-Slow-{line}: {'y' * 20}\r\n".encode())
                except OSError:
                    cut += 1
                    s.close()
                    try:
                        socks[i] = opened()
                    except OSError:
                        pass
    finally:
        for s in socks:
            s.close()
    return cut


def flood(port, n, seconds, path):
    """``n`` connections opened at once, one request each, then held open (reopened when closed)."""
    socks, reopened = [], 0
    request = f"GET {path} HTTP/1.1\r\nHost: kb\r\n\r\n".encode()

    def opened():
        s = socket.create_connection((HOST, port), timeout=10)
        s.sendall(request)
        s.setblocking(False)
        return s

    deadline = time.monotonic() + seconds
    try:
        for _ in range(n):
            try:
                socks.append(opened())
            except OSError:
                pass
        while time.monotonic() < deadline:
            time.sleep(0.5)
            for i, s in enumerate(socks):
                try:
                    while s.recv(65536):
                        pass
                    s.close()  # closed by the server: a new one takes its place
                    socks[i] = opened()
                    reopened += 1
                except BlockingIOError:
                    pass  # open and quiet: still held
                except OSError:
                    s.close()
                    try:
                        socks[i] = opened()
                        reopened += 1
                    except OSError:
                        pass
    finally:
        for s in socks:
            s.close()
    return len(socks), reopened


# -- the server -------------------------------------------------------------------------


def workers(server):
    return [pid for pid in server.pids() if pid != server.proc.pid]


def worker_rss_mb(server):
    """The largest resident set of a worker now, in MB."""
    return max(((proc_status_kb(pid, "VmRSS") or 0) / 1024 for pid in workers(server)), default=0.0)


def worker_peak_mb(server):
    return max(((proc_status_kb(pid, "VmHWM") or 0) / 1024 for pid in workers(server)), default=0.0)


def restarts(port):
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("kb_worker_restarts_total "):
            return float(line.split()[1])
    return 0.0


def health_pid(port):
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        conn.request("GET", "/health")
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        if resp.status == 200:
            import json

            return json.loads(body)["pid"]
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        return None
    return None


# -- scenarios --------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    seconds: float = 0.0
    requests: int = 0
    failed: int = 0
    failures: dict = field(default_factory=dict)
    probe: dict = field(default_factory=dict)
    rss_before: float = 0.0
    rss_after: float = 0.0
    restarts: float = 0.0
    note: str = ""


class Soak:
    def __init__(self, args, server, port, articles, index, corpus, files, pool):
        self.args, self.server, self.port = args, server, port
        self.articles, self.index, self.corpus, self.files = articles, index, corpus, files
        self.pool = pool
        self.probe_queries = pool.take(200)
        self.rows = []

    def scenario(self, name, body, clients=0, paths=None):
        log(f"{name} ...")
        row = Row(name, rss_before=worker_rss_mb(self.server))
        before = restarts(self.port) or 0.0
        started = time.monotonic()
        with Probe(self.port, self.probe_queries) as probe:
            if clients:
                with Clients(self.port, clients, paths) as load:
                    row.note = body() or ""
                tally = load.tally
                row.requests, row.failed, row.failures = tally.ok + tally.failed, tally.failed, dict(tally.kinds)
            else:
                row.note = body() or ""
        row.seconds = time.monotonic() - started
        row.probe = probe.summary()
        row.requests += row.probe["n"]
        row.failed += probe.failed
        if probe.failed:
            row.failures["probe"] = probe.failed
        row.rss_after = worker_rss_mb(self.server)
        row.restarts = (restarts(self.port) or 0.0) - before
        self.rows.append(row)
        log(f"{name}: {row}")
        return row

    def search_paths(self, n):
        return ["/search?" + urlencode({"q": q}) for q in self.pool.take(n)]

    def baseline(self):
        self.scenario("baseline (probe only)", lambda: time.sleep(self.args.phase_seconds / 2))

    def reindex_loop(self):
        def body():
            deadline, builds, rng = time.monotonic() + self.args.reindex_seconds, 0, __import__("random").Random(7)
            argv = [sys.executable, "-m", "kb", "index", "--articles", str(self.articles), "--index", str(self.index)]
            while time.monotonic() < deadline:
                edit_one_article(
                    self.articles, self.files, self.corpus, rng.randrange(len(self.files)), nonsense_word(rng)
                )
                done = subprocess.run(
                    ["nice", "-n", "5", *argv, "--quiet"], cwd=REPO, capture_output=True, env=_env(), timeout=600
                )
                builds += done.returncode == 0
            return f"{builds} incremental builds published"

        self.scenario("reindex loop under load", body, clients=4, paths=self.search_paths(2000))

    def worker_kill(self):
        def body():
            time.sleep(2)
            old = set(workers(self.server))
            victim = max(old)
            killed = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            new = None
            while time.monotonic() - killed < 10 and new is None:
                fresh = set(workers(self.server)) - old
                new = min(fresh) if fresh else None
                time.sleep(0.002)
            forked = time.monotonic() - killed
            answered = None
            while new is not None and time.monotonic() - killed < 15:
                if health_pid(self.port) == new:
                    answered = time.monotonic() - killed
                    break
            time.sleep(3)
            return (
                "a failure here is a request on a connection the killed worker held; "
                + (f"replacement forked {forked * 1000:.0f} ms after SIGKILL")
                + (f", answered after {answered * 1000:.0f} ms" if answered else ", not seen answering in 15 s")
            )

        self.scenario("worker SIGKILL under load", body, clients=4, paths=self.search_paths(2000))

    def slow(self):
        def body():
            cut = slow_headers(self.port, self.args.slow_sockets, self.args.phase_seconds)
            return f"{self.args.slow_sockets} slow-header sockets; {cut} cut off by the request deadline and reopened"

        self.scenario(f"{self.args.slow_sockets} slow-header sockets", body)

    def flood(self):
        def body():
            held, reopened = flood(self.port, self.args.flood, self.args.phase_seconds, "/search?q=flood")
            return f"{held} connections held, {reopened} reopened"

        self.scenario(f"{self.args.flood}-connection flood", body)

    def long_words(self):
        n, length = self.args.long_words, self.args.word_length
        paths = ["/search?" + urlencode({"q": os.urandom(length).translate(LETTERS).decode()}) for _ in range(n)]

        def body():
            with Clients(self.port, 4, paths, cycle=False) as load:
                load.wait()
            self._extra = load.tally
            return f"{n} unique {length}-letter words; peak worker RSS {worker_peak_mb(self.server):.0f} MB"

        row = self.scenario(f"{n} unique long words", body)
        row.requests += self._extra.ok + self._extra.failed
        row.failed += self._extra.failed
        row.failures.update(self._extra.kinds)

    def article_pages(self):
        paths = ["/articles/" + article_slug(f) for f in self.files]

        def body():
            with Clients(self.port, 4, paths, cycle=False) as load:
                load.wait()
            self._extra = load.tally
            return f"every article's JSON once ({len(paths)}); peak worker RSS {worker_peak_mb(self.server):.0f} MB"

        row = self.scenario("every article page", body)
        row.requests += self._extra.ok + self._extra.failed
        row.failed += self._extra.failed
        row.failures.update(self._extra.kinds)

    def full_cache(self):
        n = self.args.cache_queries
        paths = ["/search?" + urlencode({"q": q, "limit": 50, "group": "article"}) for q in self.pool.take(n)]

        def body():
            with Clients(self.port, 4, paths, cycle=False) as load:
                load.wait()
            self._extra = load.tally
            return f"{n} distinct limit=50&group=article answers; peak worker RSS {worker_peak_mb(self.server):.0f} MB"

        row = self.scenario("full result cache", body)
        row.requests += self._extra.ok + self._extra.failed
        row.failed += self._extra.failed
        row.failures.update(self._extra.kinds)


SCENARIOS = ("baseline", "reindex_loop", "worker_kill", "slow", "flood", "long_words", "article_pages", "full_cache")


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def render(rows, facts):
    head = (
        "| scenario | s | requests | failed | probe n | probe p50 ms | probe p95 ms | probe max ms "
        "| worker RSS before → after MB | restarts | note |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        p = r.probe
        failed = f"{r.failed}" + (f" ({', '.join(f'{k} {v}' for k, v in r.failures.items())})" if r.failures else "")
        lines.append(
            f"| {r.name} | {r.seconds:.0f} | {r.requests} | {failed} | {p['n']} | {p['p50'] or 0:.1f} "
            f"| {p['p95'] or 0:.1f} | {p['max']:.1f} | {r.rss_before:.0f} → {r.rss_after:.0f} | {r.restarts:.0f} "
            f"| {r.note} |"
        )
    return "\n".join(lines + ["", facts])


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, required=True, help="a directory of articles (e.g. ../shared/corpus/medquad)")
    p.add_argument("--workers", type=int, default=2, help="kb serve --workers (default 2)")
    p.add_argument("--threads", type=int, default=4, help="kb serve --threads (default 4)")
    p.add_argument("--phase-seconds", type=float, default=20, help="length of the attack scenarios (default 20)")
    p.add_argument("--reindex-seconds", type=float, default=40, help="length of the reindex loop (default 40)")
    p.add_argument("--slow-sockets", type=int, default=200)
    p.add_argument("--flood", type=int, default=500)
    p.add_argument("--long-words", type=int, default=16000)
    p.add_argument("--word-length", type=int, default=9000)
    p.add_argument("--cache-queries", type=int, default=1200, help="distinct group=article queries (default 1200)")
    p.add_argument(
        "--only",
        type=lambda v: [x for x in v.split(",") if x],
        help=f"run only these scenarios, comma-separated, in order (default: {','.join(SCENARIOS)})",
    )
    p.add_argument("--limit", type=int, help="use only the first N articles (a quick trial)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args(argv)
    unknown = set(args.only or ()) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenario {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="kb-soak-"))
    try:
        corpus = args.corpus.resolve()
        files = article_files(corpus, args.limit)
        articles, index = tmp / "articles", tmp / "index"
        link_corpus(files, corpus, articles)
        log(f"building the index of {len(files)} articles in {tmp} ...")
        built = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "kb", "index", "--articles", str(articles), "--index", str(index), "--quiet"],
            cwd=REPO,
            env=_env(),
            check=True,
        )
        built = time.monotonic() - built
        pool = SearchBoxPool(read_corpus_text(files))
        port = free_port()
        argv = [sys.executable, "-m", "kb", "serve", "--index", str(index), "--port", str(port)]
        argv += ["--articles", str(articles), "--workers", str(args.workers), "--threads", str(args.threads)]
        with Server(argv, port, cwd=REPO, env=_env(), log_path=tmp / "serve.log") as server:
            server.wait_ready()
            time.sleep(1)  # every worker has opened the index
            soak = Soak(args, server, port, articles, index, corpus, files, pool)
            for name in args.only or SCENARIOS:
                getattr(soak, name)()
            stopped = time.monotonic()
            server.stop()
            stop_s = time.monotonic() - stopped
            status = server.proc.returncode
        facts = (
            f"kb serve --workers {args.workers} --threads {args.threads} on {HOST}:{port}; {len(files)} articles "
            f"from {args.corpus} (index built in {built:.0f} s); SIGTERM to exit {stop_s:.1f} s, status {status}; "
            f"whole run {time.monotonic() - started:.0f} s on {os.cpu_count()} CPUs. "
            "Probe: a new connection and GET /search every 100 ms. RSS: the largest worker's VmRSS."
        )
        print(render(soak.rows, facts))
        lines = (tmp / "serve.log").read_text(errors="replace").splitlines()
        supervisor = [line for line in lines if "kb.serve" in line or line.startswith("kb: ")]  # not request lines
        print("\nkb serve's supervisor log:\n" + "\n".join("  " + line for line in supervisor[-12:]))
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
