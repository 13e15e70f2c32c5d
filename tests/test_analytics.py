"""Search analytics: what is counted, what is never stored, what reports show.

Every app here gets its own data directory; the recorder's tallies are written
with :func:`kb.analytics.flush_all` (the background writer does it every second).
"""

import datetime as dt
import json
import logging
import multiprocessing
import sqlite3
import time

import pytest
from falcon import testing

from kb import analytics
from kb.cli import main
from kb.web import create_app

from .kb_site import make_site

KEYS = "write:w-key analytics:a-key"
IP = "203.0.113.77"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) SecretBrowser/123.4"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return make_site(tmp_path_factory.mktemp("site"))


@pytest.fixture
def config(site, tmp_path):
    return site.with_overrides(data_dir=tmp_path / "data", api_keys=KEYS)


@pytest.fixture
def client(config):
    return testing.TestClient(create_app(config))


def db_rows(config, table):
    analytics.flush_all()
    path = analytics.Settings.from_config(config).path
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


def searched(config):
    """``{query: searches}`` recorded so far."""
    return {q: n for _, q, n, _, _ in db_rows(config, "searches")}


def event(client, **body):
    r = client.simulate_post("/events", body=json.dumps(body), headers={"Content-Type": "text/plain;charset=UTF-8"})
    return r


# -- what counts as a search ------------------------------------------------------


def test_keystrokes_count_once_as_the_settled_query(client, config):
    for typed in ("m", "mi", "mis", "misc", "miscarr", "miscarriage"):
        r = client.simulate_get("/search", params={"q": typed, "live": "1"})
        assert r.status_code == 200
    assert event(client, type="search", q="miscarriage").status_code == 204
    assert searched(config) == {"miscarriage": 1}


def test_searches_without_live_each_count(client, config):
    # The same keystrokes sent as ordinary API searches are four searches: the
    # marker is what collapses them, not a server-side guess.
    for typed in ("m", "mi", "mis", "miscarriage"):
        client.simulate_get("/search", params={"q": typed})
    assert searched(config) == {"m": 1, "mi": 1, "mis": 1, "miscarriage": 1}


def test_pages_and_later_pages(client, config):
    client.simulate_get("/search", params={"q": "folate", "offset": "10"})  # a next page is not a new search
    client.simulate_get("/", params={"q": "Folate", "page": "2"})
    assert not analytics.Settings.from_config(config).path.exists() or searched(config) == {}
    client.simulate_get("/", params={"q": "FOLATE "})
    client.simulate_get("/search", params={"q": "folate?"})
    assert searched(config) == {"folate": 2}


def test_zero_results_and_low_confidence_are_counted(client, config):
    client.simulate_get("/search", params={"q": "zzzyqx"})
    client.simulate_get("/search", params={"q": "zzzyqx"})
    event(client, type="search", q="ivf")  # the server searches to learn total and confidence
    event(client, type="search", q="parking painful")
    r = client.simulate_get("/search", params={"q": "parking painful"})
    assert r.json["confidence"] == "low" and r.json["total"]
    rows = {q: (n, z, low) for _, q, n, z, low in db_rows(config, "searches")}
    assert rows == {"zzzyqx": (2, 2, 0), "ivf": (1, 0, 0), "parking painful": (2, 0, 2)}


def test_clicks_are_counted_with_their_positions(client, config):
    event(client, type="click", q="Egg retrieval", id="ivf#is-egg-retrieval-painful", position=1)
    event(client, type="click", q="egg retrieval", id="ivf#is-egg-retrieval-painful", position=1)
    event(client, type="click", q="egg retrieval", id="ivf", position=3)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert db_rows(config, "clicks") == [
        (day, "egg retrieval", "ivf", 3, 1),
        (day, "egg retrieval", "ivf#is-egg-retrieval-painful", 1, 2),
    ]


@pytest.mark.parametrize(
    "body,parameter",
    [
        ("not json", "body"),
        ("[1]", "body"),
        ('{"type": "view", "q": "x"}', "type"),
        ('{"type": "search"}', "q"),
        ('{"type": "search", "q": "  "}', "q"),
        ('{"type": "search", "q": "x", "ip": "1.2.3.4"}', "ip"),
        ('{"type": "click", "q": "x", "id": "ivf"}', "position"),
        ('{"type": "click", "q": "x", "id": "ivf", "position": true}', "position"),
        ('{"type": "click", "q": "x", "id": "ivf", "position": -1}', "position"),
        ('{"type": "click", "q": "x", "id": "", "position": 1}', "id"),
        ('{"type": "click", "q": "x", "id": "ivf", "position": 1, "user": "u"}', "user"),
    ],
)
def test_bad_events_are_400_naming_the_field(client, body, parameter):
    r = client.simulate_post("/events", body=body)
    assert r.status_code == 400
    assert r.json["error"]["code"] == "bad_parameter"
    assert r.json["error"]["parameter"] == parameter


def test_bad_live_value_is_a_400(client):
    r = client.simulate_get("/search", params={"q": "ivf", "live": "yes"})
    assert r.status_code == 400 and r.json["error"]["parameter"] == "live"


def test_analytics_off_records_nothing_and_creates_no_file(site, tmp_path):
    config = site.with_overrides(data_dir=tmp_path / "data", analytics=False, api_keys=KEYS)
    client = testing.TestClient(create_app(config))
    client.simulate_get("/search", params={"q": "ivf"})
    client.simulate_get("/", params={"q": "ivf"})
    assert event(client, type="click", q="ivf", id="ivf", position=1).status_code == 204
    analytics.flush_all()
    assert not (tmp_path / "data").exists()
    r = client.simulate_get("/analytics", headers={"Authorization": "Bearer a-key"})
    assert r.status_code == 404


# -- privacy -------------------------------------------------------------------


def test_no_ip_user_agent_or_cookie_reaches_the_database_or_the_logs(client, config, caplog):
    caplog.set_level(logging.DEBUG)
    headers = {
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": IP,
        "Cookie": "session=cookie-value-42",
        "Referer": "https://clinic.example/secret-page",
    }
    for path, params in (("/search", {"q": "ivf"}), ("/", {"q": "ivf"})):
        client.simulate_get(path, params=params, headers=headers, remote_addr=IP)
    client.simulate_post(
        "/events", body='{"type": "click", "q": "ivf", "id": "ivf", "position": 1}', headers=headers, remote_addr=IP
    )
    analytics.flush_all()
    data_dir = analytics.Settings.from_config(config).path.parent
    stored = b"".join(p.read_bytes() for p in data_dir.iterdir())  # the database, its WAL and shm files
    assert b"ivf" in stored  # the grep below does look at the data
    for secret in (IP, USER_AGENT, "SecretBrowser", "cookie-value-42", "secret-page", "127.0.0.1"):
        assert secret.encode() not in stored, secret
        assert secret not in caplog.text, secret


def test_the_database_file_is_private(client, config):
    client.simulate_get("/search", params={"q": "ivf"})
    path = analytics.Settings.from_config(config).path
    analytics.flush_all()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# -- reports -------------------------------------------------------------------


def fill(path, counts, clock=time.time):
    """``counts``: ``{query: (searches, zero_results)}`` recorded through a Recorder."""
    recorder = analytics.Recorder(path, clock=clock)
    for q, (n, zero) in counts.items():
        for i in range(n):
            recorder.search(q, 0 if i < zero else 3, "high")
    recorder.flush()
    return recorder


def test_a_query_is_listed_only_from_k_searches(tmp_path):
    path = tmp_path / "a.sqlite3"
    fill(path, {"often": (5, 5), "rare condition x": (4, 4)})
    rep = analytics.report(path, min_count=5)
    assert [r["query"] for r in rep["top_queries"]] == ["often"]
    assert [r["query"] for r in rep["zero_result_queries"]] == ["often"]
    assert [r["query"] for r in rep["no_click_queries"]] == ["often"]
    assert rep["below_min_count"] == {"queries": 1, "searches": 4}
    assert rep["totals"]["searches"] == 9 and rep["totals"]["zero_results"] == 9
    assert "rare condition x" not in json.dumps(rep)
    rep = analytics.report(path, min_count=4)
    assert {r["query"] for r in rep["top_queries"]} == {"often", "rare condition x"}


def test_k_counts_over_the_whole_window(tmp_path):
    path = tmp_path / "a.sqlite3"
    now = time.time()
    for days_ago in range(5):  # once a day for five days
        fill(path, {"daily query": (1, 0)}, clock=lambda d=days_ago: now - d * 86400)
    assert [r["query"] for r in analytics.report(path, days=30)["top_queries"]] == ["daily query"]
    assert analytics.report(path, days=3)["top_queries"] == []


def test_rows_older_than_the_retention_are_deleted(tmp_path):
    path = tmp_path / "a.sqlite3"
    now = time.time()
    fill(path, {"ancient": (6, 0)}, clock=lambda: now - 100 * 86400)
    # Enough rows to fill pages that deletion frees (their bytes stay without secure_delete).
    fill(path, {f"ancient worry {i}": (1, 0) for i in range(3000)}, clock=lambda: now - 100 * 86400)
    fill(path, {"recent": (6, 0)}, clock=lambda: now - 10 * 86400)
    recorder = analytics.Recorder(path, retention_days=90)
    recorder.click("recent", "ivf", 1)
    recorder.flush()  # a writer sweeps too
    with sqlite3.connect(path) as conn:
        assert [q for (q,) in conn.execute("SELECT DISTINCT query FROM searches")] == ["recent"]
    analytics.report(path, retention_days=7)  # a report sweeps with its retention
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM searches").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM clicks").fetchone() == (1,)  # today's
    # Gone from the bytes too, not only from the tables (grep the files).
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"ancient" not in stored
    assert b"recent" in stored  # the clicks row still holds it


def test_report_daily_series_and_click_figures(tmp_path):
    path = tmp_path / "a.sqlite3"
    fill(path, {"ivf": (10, 2)})
    recorder = analytics.Recorder(path)
    recorder.click("ivf", "ivf", 1)
    recorder.click("ivf", "ivf#faq", 3)
    recorder.click("ivf", "ivf", 0)  # the answer card: a click, not a position
    recorder.flush()
    rep = analytics.report(path, days=7)
    assert len(rep["daily"]) == 7 and rep["daily"][-1]["day"] == rep["to"]
    assert rep["daily"][-1] == {"day": rep["to"], "searches": 10, "zero_results": 2, "zero_result_rate": 0.2}
    (row,) = rep["top_queries"]
    assert row["clicks"] == 3 and row["click_through_rate"] == 0.3 and row["mean_click_position"] == 2.0


def test_several_processes_write_one_file(tmp_path):
    path = tmp_path / "shared.sqlite3"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(path, n)) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    rep = analytics.report(path)
    assert rep["top_queries"][0]["query"] == "shared" and rep["top_queries"][0]["searches"] == 3 * 300
    assert rep["totals"]["clicks"] == 3 * 300


def _worker(path, n):
    recorder = analytics.Recorder(path)
    for i in range(300):
        recorder.search("shared", 1, "high")
        recorder.click("shared", f"doc-{n}", 1)
        if i % 50 == 0:
            recorder.flush()  # many small transactions racing the other processes
    recorder.flush()


def test_done_when_twenty_searches_shown_three_hidden(client, config, capsys):
    for _ in range(20):
        client.simulate_get("/search", params={"q": "folate"})
    for _ in range(3):
        client.simulate_get("/search", params={"q": "rare private worry"})
    for _ in range(2):
        event(client, type="click", q="folate", id="folate-01", position=1)
    analytics.flush_all()
    assert main(["report", "--index", str(config.index_dir), "--data", str(config.data_dir)]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.strip().startswith("folate"))
    assert line.split() == ["folate", "20", "0", "0", "2", "10%", "1.0"]
    assert "rare private worry" not in out
    assert "1 rarer queries (3 searches)" in out
    assert main(["report", "--json", "--data", str(config.data_dir)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [r["query"] for r in rep["top_queries"]] == ["folate"]
    assert rep["top_queries"][0]["click_through_rate"] == 0.1


def test_report_command_errors(config, capsys):
    assert main(["report", "--days", "0", "--data", str(config.data_dir)]) == 1
    assert "--days" in capsys.readouterr().err


# -- the report over HTTP ------------------------------------------------------------


def test_report_endpoint_needs_an_analytics_key(client):
    assert client.simulate_get("/analytics").status_code == 401
    r = client.simulate_get("/analytics", headers={"Authorization": "Bearer w-key"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    r = client.simulate_get("/analytics", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = client.simulate_get("/analytics", headers={"Authorization": "Bearer a-key"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store, private"


def test_json_report_equals_the_cli_report(client, config, capsys):
    for _ in range(6):
        client.simulate_get("/search", params={"q": "painful"})
    analytics.flush_all()
    r = client.simulate_get("/analytics", params={"days": "7"}, headers={"Authorization": "Bearer a-key"})
    main(["report", "--json", "--days", "7", "--data", str(config.data_dir)])
    assert r.json == json.loads(capsys.readouterr().out)


def test_staff_page_draws_the_chart_without_script(client):
    for q in ("painful", "painful", "painful", "painful", "painful", "zzzyqx"):
        client.simulate_get("/search", params={"q": q})
    analytics.flush_all()
    r = client.simulate_get("/staff/analytics")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    import base64

    basic = base64.b64encode(b"staff:a-key").decode()
    r = client.simulate_get("/staff/analytics", params={"days": "7"}, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<svg" in r.text and r.text.count("<rect") == 7 and "<polyline" in r.text
    scripts = [s for s in r.text.split("<script")[1:]]
    assert all(s.lstrip().startswith('src="/widget.js"') for s in scripts)  # kb's own, nothing else
    assert "painful" in r.text and "zzzyqx" not in r.text  # below k
    assert "script-src 'self'" in r.headers["content-security-policy"]
    # Basic is for the page only: the JSON takes Bearer.
    assert client.simulate_get("/analytics", headers={"Authorization": f"Basic {basic}"}).status_code == 401


def test_normalise_is_used_for_counting():
    assert analytics.normalise("  Ménière's  DISEASE?") == "meniere's disease"
    assert analytics.normalise("?!") == ""
    assert len(analytics.normalise("a" * 5000)) == analytics.MAX_QUERY_CHARS


def test_report_window_dates():
    rep = analytics.report("/nonexistent/a.sqlite3", days=3, today=dt.date(2026, 3, 1))
    assert [d["day"] for d in rep["daily"]] == ["2026-02-27", "2026-02-28", "2026-03-01"]
    assert rep["totals"]["searches"] == 0 and rep["totals"]["click_through_rate"] is None


def test_staff_page_shows_queries_as_text(client):
    hostile = "<img src=x onerror=alert(1)>"
    for _ in range(5):
        client.simulate_get("/search", params={"q": hostile})
    analytics.flush_all()
    r = client.simulate_get("/staff/analytics", headers={"Authorization": "Bearer a-key"})
    assert "&lt;img src=x onerror=alert(1)&gt;" in r.text
    assert "<img" not in r.text


def test_settings_from_the_environment(tmp_path):
    from kb.config import Config

    assert analytics.Settings.from_config(Config.from_env({"KB_ANALYTICS": "off"})).enabled is False
    settings = analytics.Settings.from_config(Config.from_env({"KB_INDEX_DIR": str(tmp_path / "ix")}))
    assert settings.enabled and settings.path == tmp_path / "data" / analytics.DB_NAME
    env = {"KB_DATA_DIR": str(tmp_path / "d"), "KB_ANALYTICS_MIN_COUNT": "3"}
    settings = analytics.Settings.from_config(Config.from_env(env))
    assert settings.path == tmp_path / "d" / analytics.DB_NAME and settings.min_count == 3
    with pytest.raises(ValueError):
        analytics.Settings.from_config(Config.from_env({"KB_ANALYTICS_MIN_COUNT": "0"}))


def _create_at_once(path, barrier):
    recorder = analytics.Recorder(path)
    recorder.search("first", 1, "high")
    barrier.wait()
    recorder.flush()  # raises if the file could not be created and written


def test_several_processes_create_the_file_at_once(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for attempt in range(3):
        path = tmp_path / f"new-{attempt}.sqlite3"
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_create_at_once, args=(path, barrier)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0]
        assert analytics.report(path, min_count=1)["top_queries"][0]["searches"] == 4
