"""Live reload: a real waitress server keeps answering while new generations land.

Client threads send /search requests the whole time; the test rebuilds the
index twice with a new word in an article.  Every request must get a 200, the
new word must be found soon after each build returns, and the generations the
server has moved away from must become removable.  Everything runs on
127.0.0.1 with bounded loops.
"""

import http.client
import json
import threading
import time
import urllib.parse

import pytest
import waitress
from waitress import wasyncore

from kb import generations
from kb.config import Config
from kb.indexer import build
from kb.web import create_app

from .conftest import copy_all_articles, generation_dirs, write_article

POLL_SECONDS = 5.0
CLIENTS = 3
QUERIES = ["miscarriage", "ivf", "vitamin", "egg retrieval", "pregnancy", "zz" * 3]


def note_text(word):
    return f"---\ntitle: Reload Note\nslug: note\n---\n\nThis note mentions {word} and the clinic.\n"


class Clients:
    """Threads that each send /search requests in a loop until stopped."""

    def __init__(self, port, n):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(n)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)
        assert not any(t.is_alive() for t in self.threads), "a client thread did not stop"

    def count(self):
        with self.lock:
            return self.ok + len(self.failures)

    def _loop(self, i):
        conn = None
        n = 0
        while not self.stop.is_set():
            q = QUERIES[(i + n) % len(QUERIES)]
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/search?" + urllib.parse.urlencode({"q": q, "limit": 5}))
                resp = conn.getresponse()
                body = resp.read()
                if resp.status == 200 and isinstance(json.loads(body).get("results"), list):
                    with self.lock:
                        self.ok += 1
                else:
                    with self.lock:
                        self.failures.append((q, resp.status, body[:200]))
            except Exception as e:  # a reset connection is a failed request too
                with self.lock:
                    self.failures.append((q, type(e).__name__, str(e)[:200]))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


def get_json(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def wait_until(predicate, seconds=POLL_SECONDS, interval=0.05):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


@pytest.fixture
def server(tmp_path):
    articles = copy_all_articles(tmp_path / "articles")
    write_article(articles, "note.md", note_text("aardvark"))
    index = tmp_path / "index"
    assert build(articles, index).ok
    app = create_app(Config(articles_dir=articles, index_dir=index, reload_seconds=0.2))
    srv = waitress.create_server(app, host="127.0.0.1", port=0, threads=2, ident="kb-test")
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield articles, index, srv.effective_port
    finally:
        # close the listening socket, the connections and the trigger in the
        # server's own loop thread (closing them from here races its select())
        srv.trigger.pull_trigger(lambda: wasyncore.close_all(srv._map))
        thread.join(timeout=5)
        srv.task_dispatcher.shutdown(timeout=5)
        assert not thread.is_alive(), "the server did not stop"


def found(port, word):
    status, body = get_json(port, "/search?" + urllib.parse.urlencode({"q": word}))
    return status == 200 and "note" in [r["id"] for r in body["results"]]


def test_reindex_while_serving(server):
    articles, index, port = server
    assert found(port, "aardvark")
    served = [generations.current_name(index)]

    with Clients(port, CLIENTS) as clients:
        assert wait_until(lambda: clients.count() >= 10), "the clients got no answers"
        for word in ("bandicoot", "capybara"):
            write_article(articles, "note.md", note_text(word))
            report = build(articles, index)
            assert report.ok and report.changed == 1
            served.append(report.generation)
            assert wait_until(lambda: found(port, word)), f"{word!r} not found {POLL_SECONDS} s after the build"
            assert not found(port, "aardvark")
            status, health = get_json(port, "/health")
            assert status == 200 and health["generation"] == report.generation
            # keep the load on for a while on the new generation
            target = clients.count() + 20
            assert wait_until(lambda: clients.count() >= target)
            assert len(generation_dirs(index)) <= 2

        # once every server thread has moved on, nothing holds the old generations
        def only_current():
            generations.remove_unused(index)
            return generation_dirs(index) == [generations.current_name(index)]

        assert wait_until(only_current), generation_dirs(index)

    assert clients.failures == []
    assert clients.ok > 0
    assert generations.current_name(index) == served[-1]


def _serving(engine):
    """The generation the engine answers from now, read without sending a request."""
    current = engine.generations.serving()
    return current.name if current is not None else None


def test_new_generation_is_taken_up_without_waiting_for_a_request(tmp_path):
    from kb.search import Engine

    articles, index = copy_all_articles(tmp_path / "articles"), tmp_path / "index"
    first = build(articles, index).generation
    engine = Engine(index, reload_seconds=0.05)
    try:
        assert engine.search("miscarriage").generation == first
        write_article(articles, "note.md", note_text("zebrafinch"))
        second = build(articles, index).generation
        # No request from here on: only the engine's own thread can notice it.
        deadline = time.monotonic() + POLL_SECONDS
        while _serving(engine) != second and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _serving(engine) == second
        results = engine.search("zebrafinch")
        assert results.generation == second and [h.slug for h in results.hits] == ["note"]
    finally:
        engine.close()
    assert not engine.generations.watcher.is_alive()


def test_engine_without_reload_seconds_has_no_thread(tmp_path):
    from kb.search import Engine

    articles, index = copy_all_articles(tmp_path / "articles"), tmp_path / "index"
    build(articles, index)
    engine = Engine(index, reload_seconds=0)
    assert engine.generations.watcher is None
    assert engine.search("miscarriage").hits
    engine.close()
