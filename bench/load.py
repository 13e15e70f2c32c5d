"""HTTP load on 127.0.0.1: servers started as subprocesses, wrk or a Python fallback.

* :class:`Server` starts a server command in its own process group, waits until
  it answers, reads its peak memory (``VmHWM``) and stops it.
* :func:`run_load` sends the request paths of a file to a server for a bounded
  time at a fixed concurrency (a closed loop: each connection sends its next
  request when the previous answer arrives) and returns a :class:`LoadResult`.
  It uses Debian's ``wrk`` with ``bench/paths.lua`` when wrk is installed, and
  otherwise :func:`python_load`, threads with keep-alive ``http.client``
  connections (slower: the generator then shares the GIL with itself, so its
  latencies are an upper bound).

Only loopback addresses are accepted.
"""

import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("paths.lua")
HOST = "127.0.0.1"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(sorted_values, p):
    """The ``p``-th percentile (0-100) of sorted values, linearly interpolated."""
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize_ms(latencies_s):
    """``{n, mean, p50, p90, p95, p99, max}`` in milliseconds of latencies in seconds."""
    values = sorted(x * 1000 for x in latencies_s)
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "mean": sum(values) / len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1],
    }


@dataclass
class LoadResult:
    """What one bounded load run measured (times in ms, throughput in requests/s)."""

    generator: str
    concurrency: int
    mode: str
    paths: int
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    errors: int = 0
    out_of_paths: bool = False
    mean: float = None
    p50: float = None
    p90: float = None
    p95: float = None
    p99: float = None
    max: float = None
    detail: dict = field(default_factory=dict)

    def as_dict(self):
        return asdict(self)


# -- servers ------------------------------------------------------------------


class Server:
    """A server subprocess in its own process group (so its workers stop with it).

    Example::

        with Server(["python", "-m", "bench.floor_app", "--port", "8099"], 8099) as s:
            s.wait_ready("/health")
            print(s.memory_mb())
    """

    def __init__(self, argv, port, cwd=None, env=None, log_path=None):
        self.argv, self.port, self.cwd, self.env = argv, port, cwd, env
        self.log_path = log_path
        self.proc = None
        self._log = None

    def __enter__(self):
        self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, path="/health", timeout=180.0):
        """Wait until ``GET path`` answers 200; raise if the server exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[:4]} exited with status {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + path, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.argv[:4]} did not answer {path} within {timeout:.0f} s")

    def get_json(self, path, timeout=60):
        with urllib.request.urlopen(self.base_url + path, timeout=timeout) as r:
            return r.status, json.loads(r.read())

    def pids(self):
        """The server's process and all its descendants."""
        children = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            ppid = int(text.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def memory_mb(self):
        """Memory of the server's process tree, in MB.

        ``total``: the sum of each process's peak resident set (``VmHWM``), an
        upper bound (pages shared between forked workers count once per process);
        ``largest``: the largest single peak; ``pss_now``: the proportional set
        size of the tree now (shared pages divided among their processes).
        """
        peaks, pss = {}, 0.0
        for pid in self.pids():
            hwm = proc_status_kb(pid, "VmHWM")
            if hwm is not None:
                peaks[pid] = hwm / 1024
            pss += (proc_status_kb(pid, "Pss", "smaps_rollup") or 0) / 1024
        return {
            "main": peaks.get(self.proc.pid),
            "total": sum(peaks.values()),
            "largest": max(peaks.values(), default=None),
            "pss_now": pss,
            "processes": len(peaks),
        }

    def stop(self, timeout=15.0):
        """SIGTERM the server's process group, SIGKILL it if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            self._close_log()
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)  # the group this Popen created
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self._close_log()

    def _close_log(self):
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
            self._log = None


def proc_status_kb(pid, key, name="status"):
    """A ``key: N kB`` line of ``/proc/<pid>/<name>`` (``VmHWM``, ``Pss``), or None."""
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# -- load generators -------------------------------------------------------------


def wrk_available():
    return shutil.which("wrk") is not None


def wrk_version():
    if not wrk_available():
        return None
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    return out.splitlines()[0].split(" [")[0].strip() if out else "wrk"  # "wrk debian/4.1.0-3+b2"


def run_load(base_url, paths_file, concurrency, duration, mode="cycle", generator="wrk", timeout=10.0):
    """Load ``base_url`` with the paths in ``paths_file`` for ``duration`` seconds.

    :param mode: ``once`` sends each path at most once (the run ends early if
        they run out: ``out_of_paths``); ``cycle`` starts again from the top.
    :param generator: ``wrk`` or ``python``.
    """
    if not base_url.startswith(f"http://{HOST}:"):
        raise ValueError(f"load is only sent to {HOST}, not {base_url}")
    if generator == "wrk":
        return _wrk(base_url, paths_file, concurrency, duration, mode, timeout)
    paths = [p for p in Path(paths_file).read_text().splitlines() if p]
    return python_load(base_url, paths, concurrency, duration, mode, timeout)


def _wrk(base_url, paths_file, concurrency, duration, mode, timeout):
    threads = 1  # one event-loop thread drives 8 connections; leaves the CPUs to the server
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={max(1, round(timeout))}s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        str(paths_file),
        mode,
        str(threads),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + timeout + 60)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    w = json.loads(line[len("BENCH_JSON ") :])
    seconds = w["active_us"] / 1e6
    n_paths = sum(1 for ln in Path(paths_file).read_text().splitlines() if ln)
    errors = sum(w[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_status", "errors_timeout"))
    ms = lambda us: us / 1000
    return LoadResult(
        generator="wrk",
        concurrency=concurrency,
        mode=mode,
        paths=n_paths,
        requests=w["requests"],
        seconds=seconds,
        rps=w["requests"] / seconds if seconds else 0.0,
        errors=errors,
        out_of_paths=w["threads_out_of_paths"] >= threads,
        mean=ms(w["mean_us"]),
        p50=ms(w["p50_us"]),
        p90=ms(w["p90_us"]),
        p95=ms(w["p95_us"]),
        p99=ms(w["p99_us"]),
        max=ms(w["max_us"]),
        detail={"wrk": w, "wrk_text": proc.stdout.split("BENCH_JSON")[0].strip()},
    )


def python_load(base_url, paths, concurrency, duration, mode="cycle", timeout=10.0):
    """The fallback load generator: ``concurrency`` threads, keep-alive connections.

    Each thread takes the next path (shared counter), sends it, reads the whole
    answer, and repeats until ``duration`` has passed (or, in ``once`` mode, the
    paths run out).  Bounded by time: nothing runs past ``duration + timeout``.
    """
    host, port = base_url[len("http://") :].split(":")
    counter = itertools.count()
    latencies, errors, lock = [], [0], threading.Lock()
    out_of_paths = threading.Event()
    started = time.perf_counter()
    deadline = started + duration
    last_done = [started]

    def worker():
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        mine = []
        try:
            while time.perf_counter() < deadline:
                i = next(counter)
                if i >= len(paths):
                    if mode == "once":
                        out_of_paths.set()
                        break
                    i %= len(paths)
                t0 = time.perf_counter()
                try:
                    conn.request("GET", paths[i])
                    resp = conn.getresponse()
                    resp.read()
                    ok = 200 <= resp.status < 400
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn.close()
                    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
                t1 = time.perf_counter()
                if t1 > deadline:
                    break  # answered after the end: not counted, as wrk does
                if ok:
                    mine.append(t1 - t0)
                else:
                    with lock:
                        errors[0] += 1
                with lock:
                    last_done[0] = max(last_done[0], t1)
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(duration + timeout + 5)
    seconds = (last_done[0] if out_of_paths.is_set() else max(deadline, last_done[0])) - started
    seconds = min(seconds, duration + timeout) or 1e-9
    stats = summarize_ms(latencies)
    return LoadResult(
        generator="python",
        concurrency=concurrency,
        mode=mode,
        paths=len(paths),
        requests=len(latencies),
        seconds=seconds,
        rps=len(latencies) / seconds,
        errors=errors[0],
        out_of_paths=out_of_paths.is_set(),
        **{k: stats.get(k) for k in ("mean", "p50", "p90", "p95", "p99", "max")},
    )
