"""The authenticated write API: keys and scopes, atomic writes, 422s, concurrent PUTs."""

import json
import logging
import os
import threading
from pathlib import Path

import pytest
from falcon import testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import generations, writes
from kb.auth import ApiKeys, parse_keys
from kb.config import Config
from kb.search import Engine
from kb.web import create_app

from .conftest import copy_all_articles

WRITE = {"Authorization": "Bearer w-s3cret"}
REPORT = {"Authorization": "Bearer a-r3port"}
KEYS = "write:w-s3cret analytics:a-r3port"


def article(title, body="Some text.", extra=""):
    return f"---\ntitle: {title}\n{extra}---\n\n{body}\n"


@pytest.fixture
def site(tmp_path):
    articles = copy_all_articles(tmp_path / "articles")
    config = Config(articles_dir=articles, index_dir=tmp_path / "index", data_dir=tmp_path / "data", api_keys=KEYS)
    from kb.indexer import build

    assert build(articles, config.index_dir).ok
    return config


@pytest.fixture
def client(site):
    return testing.TestClient(create_app(site))


def ids(client, q):
    return [h["id"] for h in client.simulate_get("/search", params={"q": q}).json["results"]]


# -- keys ------------------------------------------------------------------------


def test_put_without_a_key_is_401_and_changes_nothing(client, site):
    r = client.simulate_put("/articles/new-article", body=article("New article"))
    assert r.status_code == 401
    assert r.json == {"error": {"code": "unauthorized", "message": r.json["error"]["message"]}}
    assert r.headers["www-authenticate"] == 'Bearer realm="kb"'
    assert not (site.articles_dir / "new-article.md").exists()


@pytest.mark.parametrize(
    "headers,status",
    [
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "Basic dzp3LXMzY3JldA=="}, 401),  # Basic is for the staff page only
        ({"Authorization": "w-s3cret"}, 401),
        (REPORT, 403),
    ],
)
def test_wrong_keys_and_scopes(client, headers, status):
    for method, path in (("PUT", "/articles/x"), ("DELETE", "/articles/ivf"), ("POST", "/reindex")):
        r = client.simulate_request(method, path, body=article("X"), headers=headers)
        assert r.status_code == status, (method, r.text)
        assert set(r.json["error"]) == {"code", "message"}
        assert r.json["error"]["code"] == {401: "unauthorized", 403: "forbidden"}[status]


def test_writes_are_refused_when_no_key_is_configured(site):
    client = testing.TestClient(create_app(site.with_overrides(api_keys="analytics:a-r3port")))
    for headers in ({}, WRITE, REPORT):
        r = client.simulate_put("/articles/new-article", body=article("New"), headers=headers)
        assert r.status_code == 403 and "no API key" in r.json["error"]["message"]


def test_keys_from_a_file(site, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# CMS\nwrite:from-file  # publishing\nanalytics:dash\n")
    client = testing.TestClient(create_app(site.with_overrides(api_keys="", api_keys_file=keys)))
    r = client.simulate_put("/articles/new-article", body=article("New"), headers={"Authorization": "Bearer from-file"})
    assert r.status_code == 201


def test_bad_key_settings_never_show_the_secret():
    with pytest.raises(ValueError) as e:
        parse_keys("write:ok admin:hunter2", "KB_API_KEYS")
    assert "hunter2" not in str(e.value) and "key 2" in str(e.value)
    with pytest.raises(ValueError) as e:
        parse_keys("write:ok justasecret", "KB_API_KEYS")
    assert "justasecret" not in str(e.value)
    assert "hunter2" not in repr(Config(api_keys="write:hunter2"))


def test_key_check_compares_every_key():
    keys = ApiKeys.from_config(Config(api_keys="write:a analytics:a write:b"))
    assert keys.scopes_of("a") == {"write", "analytics"}
    assert keys.scopes_of("b") == {"write"}
    assert keys.scopes_of("c") == set() and keys.scopes_of("") == set()
    assert keys.scopes_of("ä") == set()  # non-ASCII is compared, not an error


def test_secrets_never_reach_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.simulate_put("/articles/new-article", body=article("New"), headers=WRITE)
    client.simulate_put("/articles/new-article", body=article("New"), headers={"Authorization": "Bearer guess"})
    assert "w-s3cret" not in caplog.text and "guess" not in caplog.text


# -- writing ---------------------------------------------------------------------


def test_put_creates_an_article_searchable_when_the_answer_comes(client, site):
    body = article("Zebra crossing care", "Zebra crossings and flamingo walks.")
    r = client.simulate_put("/articles/new-article", body=body, headers=WRITE)
    assert r.status_code == 201, r.text
    assert r.json["action"] == "created" and r.json["served"] is True
    assert r.json["build"]["mode"] == "incremental" and r.json["build"]["added"] == 1
    assert r.json["build"]["summary"].startswith("incremental build:")
    assert (site.articles_dir / "new-article.md").read_text() == body
    assert ids(client, "zebra")[0] == "new-article"  # no wait: the response came after the swap
    assert not [p for p in site.articles_dir.iterdir() if p.name.endswith(".tmp")]

    r = client.simulate_put(
        "/articles/new-article", body=article("Zebra crossing care", "Now giraffes."), headers=WRITE
    )
    assert r.status_code == 200 and r.json["action"] == "updated" and r.json["build"]["changed"] == 1
    assert ids(client, "giraffes") == ["new-article"] and ids(client, "flamingo") == []


def test_a_broken_article_is_422_and_the_previous_version_stays(client, site):
    good = article("Zebra crossing care", "Zebra facts.")
    client.simulate_put("/articles/new-article", body=good, headers=WRITE)
    broken = "---\ntitle: Zebra\ntags: [unclosed\n---\n\nText.\n"
    r = client.simulate_put("/articles/new-article", body=broken, headers=WRITE)
    assert r.status_code == 422
    error = r.json["error"]
    assert error["code"] == "article_invalid"
    (problem,) = error["problems"]
    assert problem["path"].endswith("new-article.md") and problem["line"] >= 2
    assert problem["text"] == f"{problem['path']}:{problem['line']}: {problem['message']}"
    assert (site.articles_dir / "new-article.md").read_text() == good
    assert ids(client, "zebra") == ["new-article"]
    assert client.simulate_get("/articles/new-article").json["title"] == "Zebra crossing care"


@pytest.mark.parametrize(
    "body,message",
    [
        (article("X", extra="slug: other-slug\n"), "not 'new-article'"),
        ("---\nsummary: no title\n---\n\nText.\n", "no title"),
        (b"---\ntitle: Bad bytes\n---\n\n\xff\xfe\n", "UTF-8"),
    ],
)
def test_other_broken_articles(client, site, body, message):
    r = client.simulate_put("/articles/new-article", body=body, headers=WRITE)
    assert r.status_code == 422 and message in r.json["error"]["message"]
    assert not (site.articles_dir / "new-article.md").exists()


def test_bad_slug_and_size(client):
    r = client.simulate_put("/articles/Bad.Slug", body=article("X"), headers=WRITE)
    assert r.status_code == 400 and r.json["error"]["parameter"] == "slug"
    r = client.simulate_put("/articles/big", body=b"x" * (writes.MAX_ARTICLE_BYTES + 1), headers=WRITE)
    assert r.status_code == 400 and r.json["error"]["parameter"] == "body"


def test_an_article_in_a_subdirectory_is_updated_in_place(client, site):
    (site.articles_dir / "sub").mkdir()
    (site.articles_dir / "sub" / "deep.md").write_text(article("Deep one", "Okapi.", extra="slug: deep\n"))
    assert client.simulate_post("/reindex", headers=WRITE).status_code == 200
    r = client.simulate_put("/articles/deep", body=article("Deep one", "Narwhal.", extra="slug: deep\n"), headers=WRITE)
    assert r.status_code == 200 and r.json["path"].endswith("sub/deep.md")
    assert not (site.articles_dir / "deep.md").exists()
    assert ids(client, "narwhal") == ["deep"] and ids(client, "okapi") == []


def test_delete_removes_the_article(client, site):
    assert ids(client, "ivf")
    r = client.simulate_delete("/articles/ivf", headers=WRITE)
    assert r.status_code == 200 and r.json["action"] == "deleted" and r.json["build"]["removed"] == 1
    assert not (site.articles_dir / "ivf.md").exists()
    assert not [i for i in ids(client, "ivf") if i.startswith("ivf")]
    assert client.simulate_get("/articles/ivf").status_code == 404
    assert client.simulate_delete("/articles/ivf", headers=WRITE).status_code == 404


def test_reindex_reports_problems_of_other_articles(client, site):
    (site.articles_dir / "broken.md").write_text("---\ntitle: [\n---\n")
    r = client.simulate_post("/reindex", params={"full": "1"}, headers=WRITE)
    assert r.status_code == 200 and r.json["build"]["mode"] == "full"
    assert [p["path"].endswith("broken.md") for p in r.json["problems"]] == [True]
    assert client.simulate_post("/reindex", params={"full": "yes"}, headers=WRITE).status_code == 400


def test_the_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "a.md"
    path.write_bytes(b"old")

    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        writes._atomic_write(path, b"new and long")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]


# -- concurrency -------------------------------------------------------------------


def test_concurrent_puts_all_land(client):
    results = {}

    animals = ["okapi", "narwhal", "quokka", "axolotl"]

    def put(n):
        body = article(f"Concurrent {n}", f"The {animals[n]} text.")
        results[n] = client.simulate_put(f"/articles/concurrent-{n}", body=body, headers=WRITE)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert {n: r.status_code for n, r in results.items()} == {n: 201 for n in range(4)}
    assert all(r.json["served"] for r in results.values())  # a newer generation holds each write too
    for n, animal in enumerate(animals):
        assert ids(client, animal) == [f"concurrent-{n}"]


def test_a_put_waits_for_a_running_build(client, site):
    release = threading.Event()
    done = {}

    def hold():
        with generations.write_lock(site.index_dir):
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    writer = threading.Thread(
        target=lambda: done.update(r=client.simulate_put("/articles/waited", body=article("Waited"), headers=WRITE))
    )
    writer.start()
    writer.join(0.3)
    assert writer.is_alive()  # waiting for the lock, not refused
    release.set()
    writer.join(30)
    holder.join()
    assert done["r"].status_code == 201


def test_a_build_busy_too_long_is_503_with_retry_after(client, site, monkeypatch):
    monkeypatch.setattr(writes, "BUILD_WAIT_SECONDS", 0.1)
    with generations.write_lock(site.index_dir):
        r = client.simulate_put("/articles/busy", body=article("Busy"), headers=WRITE)
    assert r.status_code == 503 and r.json["error"]["code"] == "index_busy"
    assert r.headers["retry-after"] == "5"


# -- incremental writes agree with a full build -----------------------------------------

WORDS = ["zebra", "okapi", "narwhal", "giraffe", "quokka"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(["put", "delete"]), st.integers(0, 2), st.sampled_from(WORDS)),
        min_size=1,
        max_size=5,
    )
)
def test_writes_then_search_equal_a_full_build(tmp_path_factory, ops):
    root = tmp_path_factory.mktemp("ops")
    articles = copy_all_articles(root / "articles")
    from kb.indexer import build

    build(articles, root / "index")
    for op, n, word in ops:
        if op == "put":
            writes.put_article(articles, root / "index", f"animal-{n}", article(f"Animal {n}", word).encode())
        elif (articles / f"animal-{n}.md").exists():
            writes.delete_article(articles, root / "index", f"animal-{n}")
    build(articles, root / "full", full=True)
    incremental, full = Engine(root / "index"), Engine(root / "full")
    try:
        for q in WORDS + ["animal", "ivf"]:
            # The same documents with the same scores (equal scores may tie in another order).
            assert sorted((h.id, h.score) for h in incremental.search(q, limit=50).hits) == sorted(
                (h.id, h.score) for h in full.search(q, limit=50).hits
            ), q
    finally:
        incremental.close()
        full.close()


def test_article_path_defaults_to_slug_md(tmp_path):
    assert writes.article_path(tmp_path / "a", tmp_path / "i", "x") == Path(tmp_path / "a" / "x.md")


def test_serve_refuses_bad_keys_before_listening(tmp_path, monkeypatch, capsys):
    from kb.cli import main

    monkeypatch.setenv("KB_API_KEYS", "write:fine admin:hunter2")
    assert main(["serve", "--index", str(tmp_path / "index"), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "KB_API_KEYS: key 2 has the unknown scope 'admin'" in err and "hunter2" not in err


def test_kb_serve_accepts_an_article_as_large_as_the_write_api_does():
    from kb.serving import waitress_settings

    assert waitress_settings(Config())["max_request_body_size"] > writes.MAX_ARTICLE_BYTES


def test_kb_serve_end_to_end(tmp_path):
    """``kb serve --workers 2``: a PUT with a key is searchable when answered, 401 without;
    a stopped server has written every search it counted (a worker's last second too)."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from kb import analytics

    from .conftest import REPO

    articles = copy_all_articles(tmp_path / "articles")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KB_")},
        "PYTHONPATH": str(REPO),
        "KB_ARTICLES_DIR": str(articles),
        "KB_INDEX_DIR": str(tmp_path / "index"),
        "KB_DATA_DIR": str(tmp_path / "data"),
        "KB_API_KEYS": KEYS,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "kb", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stderr=open(tmp_path / "stderr", "w"),
    )
    base = f"http://127.0.0.1:{port}"

    def call(method, path, body=None, headers=None):
        req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "kb serve did not start"
            time.sleep(0.1)
        body = article("Okapi care", "The okapi page.").encode()
        assert call("PUT", "/articles/new-article", body)[0] == 401
        status, answer = call("PUT", "/articles/new-article", body, WRITE)
        assert status == 201 and json.loads(answer)["served"] is True
        call("GET", "/search?q=okapi")  # counted by whichever worker answers
        for _ in range(3):
            call("GET", "/search?q=ivf")
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(60) == 0
    counts = analytics.report(tmp_path / "data" / analytics.DB_NAME, min_count=1)["top_queries"]
    assert {r["query"]: r["searches"] for r in counts} == {"okapi": 1, "ivf": 3}, (tmp_path / "stderr").read_text()
