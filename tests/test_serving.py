"""kb/serving.py: waitress under slow and odd clients, draining, and supervised workers.

The server tests run :class:`kb.serving.Server` in a thread on a free loopback
port; the supervisor tests start ``python -m kb serve`` as a real process tree,
kill its workers and send it signals.  Every wait is bounded; nothing is timed.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kb import serving
from kb.config import Config
from kb.indexer import build

from .conftest import REPO, copy_all_articles

WAIT = 20.0  # seconds any single wait may take before the test fails


def wait_until(predicate, seconds=WAIT, interval=0.05):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def listening_socket():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def slow_app(environ, start_response):
    """A WSGI app answering after ``?sleep=`` seconds (default 0)."""
    seconds = float(environ.get("QUERY_STRING", "").partition("sleep=")[2] or 0)
    time.sleep(seconds)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done"]


@pytest.fixture
def server():
    """A :class:`serving.Server` of ``slow_app`` in a thread: ``(server, port)``."""
    sock = listening_socket()
    config = Config(threads=2, request_timeout=1.0, idle_timeout=30.0, drain_seconds=10.0)
    srv = serving.Server(slow_app, sock, config)
    thread = threading.Thread(target=srv.serve, daemon=True)
    thread.start()
    try:
        yield srv, sock.getsockname()[1]
    finally:
        srv.drain()
        thread.join(timeout=WAIT)
        serving.DRAINING.clear()
        assert not thread.is_alive(), "the server did not stop"


def raw(port, data, timeout=WAIT):
    """Send bytes on a fresh connection; the first chunk of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return s.recv(4096)


def test_get_with_expect_continue_is_answered(server):
    _, port = server
    answer = raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert b"100 Continue" not in answer


def test_expect_continue_with_a_body_still_gets_100(server):
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(b"abc")
        assert b"200 OK" in s.recv(4096)


def test_a_request_trickling_in_is_cut_off(server):
    """One header line at a time keeps waitress's idle timer young; the request deadline is not fooled."""
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for n in range(int(WAIT / 0.25)):
            time.sleep(0.25)
            try:
                s.sendall(f"X-Slow-{n}: y\r\n".encode())
                s.setblocking(False)
                closed = s.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            finally:
                s.setblocking(True)
            if closed:
                break
        assert closed, "a trickling request held its connection past the request deadline"


def test_slow_clients_do_not_block_others(server):
    _, port = server
    slow = [socket.create_connection(("127.0.0.1", port), timeout=WAIT) for _ in range(150)]
    try:
        for s in slow:
            s.sendall(b"GET / HTTP/1.1\r\n")
        assert raw(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200 OK")
    finally:
        for s in slow:
            s.close()


def test_drain_finishes_requests_in_flight_and_stops_accepting(server):
    srv, port = server
    answers = []

    def slow_request():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        conn.request("GET", "/?sleep=1")
        answers.append(conn.getresponse().read())

    client = threading.Thread(target=slow_request)
    client.start()
    assert wait_until(lambda: any(ch.requests for ch in list(srv.active_channels.values())))
    idle = socket.create_connection(("127.0.0.1", port), timeout=WAIT)  # keep-alive, nothing sent
    srv.drain()
    client.join(WAIT)
    assert answers == [b"done"]
    assert idle.recv(1) == b""  # closed by the drain
    idle.close()
    assert wait_until(lambda: not _accepts(port))


def _accepts(port):
    try:
        return raw(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=2).startswith(b"HTTP")
    except OSError:
        return False


# -- the supervisor: a real `kb serve` process tree ---------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    try:
        return set(map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()))
    except FileNotFoundError:
        return set()


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def answers(port):
    try:
        return get(port, "/health")[0] == 200
    except OSError:
        return False


@pytest.fixture
def kb_serve(tmp_path):
    """``python -m kb serve --workers 2`` on a free port: ``(process, port, log path)``."""
    articles, index = copy_all_articles(tmp_path / "articles"), tmp_path / "index"
    assert build(articles, index).ok
    port = free_port()
    log = tmp_path / "serve.log"
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path / "tmp")}  # where the metrics go
    argv = [sys.executable, "-m", "kb", "serve", "--index", str(index), "--port", str(port), "--workers", "2"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_until(lambda: answers(port) and len(children(proc.pid)) == 2), log.read_text()
        yield proc, port, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(WAIT)


def test_a_killed_worker_is_replaced_and_logged(kb_serve):
    proc, port, log = kb_serve
    before = children(proc.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: len(children(proc.pid) - before) == 1 and victim not in children(proc.pid))
    assert f"worker {victim} killed by SIGKILL" in log.read_text()
    assert wait_until(lambda: answers(port))
    # every worker dead at once: the service still comes back
    victims = children(proc.pid)
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not victims & children(proc.pid) and len(children(proc.pid)) == 2 and answers(port))
    assert proc.poll() is None


def test_sighup_restarts_workers_and_sigterm_exits_0(kb_serve):
    proc, port, log = kb_serve
    before = children(proc.pid)
    proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: len(children(proc.pid)) == 2 and not children(proc.pid) & before), log.read_text()
    status, body = get(port, "/health")
    assert status == 200 and json.loads(body)["ready"] is True
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(WAIT) == 0
    assert "stopped" in log.read_text()
    assert not _accepts(port)


def test_metrics_add_up_across_workers_and_are_removed_at_exit(kb_serve, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    proc, port, log = kb_serve
    assert list((tmp_path / "tmp").glob("kb-metrics-*"))
    for n in range(20):  # a new connection each: both workers answer some
        assert get(port, f"/search?q=miscarriage+{n}")[0] == 200
    victim = min(children(proc.pid))
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: victim not in children(proc.pid) and len(children(proc.pid)) == 2 and answers(port))

    def sample(name, **labels):
        status, body = get(port, "/metrics")
        assert status == 200
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                if s.name == name and s.labels == labels:
                    return s.value
        return None

    assert sample("kb_http_requests_total", route="/search", status="200") == 20  # the dead worker's too
    assert sample("kb_worker_restarts_total") == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(WAIT) == 0, log.read_text()
    assert not list((tmp_path / "tmp").glob("kb-metrics-*")), log.read_text()


def test_health_says_a_draining_worker_is_not_ready(tmp_path):
    from falcon import testing

    from kb.web import create_app

    articles, index = copy_all_articles(tmp_path / "articles"), tmp_path / "index"
    assert build(articles, index).ok
    client = testing.TestClient(create_app(Config(articles_dir=articles, index_dir=index)))
    assert client.simulate_get("/health").json["ready"] is True
    serving.DRAINING.set()
    try:
        r = client.simulate_get("/health")
        assert r.status_code == 503 and r.json["ready"] is False and r.json["pid"] == os.getpid()
    finally:
        serving.DRAINING.clear()


def test_a_worker_dying_at_start_is_restarted_after_a_pause(tmp_path):
    """A crash loop must not spin: a worker that dies young is restarted after RESPAWN_DELAY."""
    script = f"""
import os, signal, socket, sys, threading
sys.path.insert(0, {str(REPO)!r})
from kb.config import Config
from kb.serving import Supervisor
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(8)
main = threading.main_thread().ident  # the thread that blocks the signals and waits for them
threading.Timer(2.5, lambda: signal.pthread_kill(main, signal.SIGTERM)).start()
supervisor = Supervisor(sock, Config(drain_seconds=1), 1, target=lambda sock, config: 3)
sys.exit(supervisor.run())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr
    assert "exited with status 3; restarting it in 1 s" in done.stderr
