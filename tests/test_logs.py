"""Logging: one JSON access line per request, no query text unless asked, build summaries."""

import io
import json
import logging

import pytest
from falcon import testing

from kb import generations
from kb.cli import main
from kb.config import Config
from kb.indexer import build
from kb.logs import configure_logging
from kb.search import Engine
from kb.web import create_app

from .conftest import copy_all_articles, simple_article, write_article

SECRET = "zebracorn"  # a word of the query that must not reach the log
AGENT = "SecretAgent/1.0"
ADDRESS = "203.0.113.9"


@pytest.fixture
def logged():
    """``configure(config)`` -> a buffer receiving the kb loggers' lines; undone afterwards."""
    kb = logging.getLogger("kb")
    saved = (kb.handlers[:], kb.level, kb.propagate)
    buffer = io.StringIO()

    def configure(config):
        configure_logging(config, stream=buffer)
        return buffer

    yield configure
    kb.handlers[:], kb.level, kb.propagate = saved


def lines(buffer):
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def access_lines(buffer):
    return [r for r in lines(buffer) if r["logger"] == "kb.web" and r["message"] == "request"]


@pytest.fixture(scope="module")
def site(built):
    articles, index, _ = built
    return Config(articles_dir=articles, index_dir=index, log_format="json", log_level="info")


def get(client, path, query=None, **headers):
    return client.simulate_get(path, query_string=query, headers={"User-Agent": AGENT, **headers}, remote_addr=ADDRESS)


def test_a_request_is_one_json_line_without_the_query(site, logged):
    buffer = logged(site)
    client = testing.TestClient(create_app(site))
    r = get(client, "/search", f"q=ivf+{SECRET}&limit=3")
    assert r.status_code == 200
    (line,) = access_lines(buffer)
    assert len(lines(buffer)) == 1
    assert line["level"] == "INFO" and line["time"]
    assert line["method"] == "GET"
    assert line["route"] == "/search"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0
    assert line["generation"] == generations.current_name(site.index_dir) == r.json["generation"]
    assert line["results"] == r.json["total"]
    assert line["confidence"] == r.json["confidence"]
    assert line["cache_hit"] is False
    text = buffer.getvalue()
    assert SECRET not in text and "q=" not in text and "ivf" not in text
    assert AGENT not in text and ADDRESS not in text
    get(client, "/search", f"q=ivf+{SECRET}&limit=3")
    assert access_lines(buffer)[-1]["cache_hit"] is True


def test_queries_are_logged_only_when_the_setting_says(site, logged):
    config = site.with_overrides(log_queries=True)
    buffer = logged(config)
    client = testing.TestClient(create_app(config))
    get(client, "/search", f"q=ivf+{SECRET}")
    get(client, "/suggest", f"q={SECRET}")
    search, suggest = access_lines(buffer)
    assert search["query"] == f"ivf {SECRET}"
    assert suggest["query"] == SECRET and suggest["route"] == "/suggest"
    assert AGENT not in buffer.getvalue() and ADDRESS not in buffer.getvalue()


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    "path,query,headers,route,status",
    [
        ("/articles/ivf", None, {}, "/articles/{slug}", 200),
        ("/articles/ivf", None, {"Accept": BROWSER}, "/articles/{slug}", 200),
        (f"/articles/{SECRET}", None, {}, "/articles/{slug}", 404),
        (f"/{SECRET}/x", None, {}, None, 404),
        ("/search", f"q={SECRET}&limit=0", {}, "/search", 400),
        ("/", f"q={SECRET}", {"Accept": BROWSER}, "/", 200),
        ("/suggest", f"q={SECRET}", {}, "/suggest", 200),
        ("/health", None, {}, "/health", 200),
    ],
)
def test_every_request_is_one_line_naming_its_route_not_its_url(site, logged, path, query, headers, route, status):
    buffer = logged(site)
    client = testing.TestClient(create_app(site))
    assert get(client, path, query, **headers).status_code == status
    (line,) = access_lines(buffer)
    assert (line["route"], line["status"]) == (route, status)
    assert SECRET not in buffer.getvalue()


def test_a_304_is_logged_with_its_route(site, logged):
    buffer = logged(site)
    client = testing.TestClient(create_app(site))
    etag = get(client, "/search", f"q={SECRET}").headers["etag"]
    assert get(client, "/search", f"q={SECRET}", **{"If-None-Match": etag}).status_code == 304
    first, second = access_lines(buffer)
    assert (second["route"], second["status"], second["generation"]) == ("/search", 304, first["generation"])


def test_text_format(site, logged):
    buffer = logged(site.with_overrides(log_format="text"))
    get(testing.TestClient(create_app(site)), "/search", f"q={SECRET}")
    (line,) = buffer.getvalue().splitlines()
    assert " INFO kb.web request method=GET route=/search status=200 " in line
    assert SECRET not in line


@pytest.mark.parametrize("field,value", [("log_level", "loud"), ("log_format", "xml")])
def test_bad_settings_are_refused(site, field, value):
    with pytest.raises(ValueError, match=f"KB_{field.upper()}"):
        configure_logging(site.with_overrides(**{field: value}), stream=io.StringIO())


def test_settings_from_the_environment():
    config = Config.from_env({"KB_LOG_LEVEL": "debug", "KB_LOG_FORMAT": "text", "KB_LOG_QUERIES": "1"})
    assert (config.log_level, config.log_format, config.log_queries) == ("debug", "text", True)
    assert Config.from_env({"KB_LOG_QUERIES": "0"}).log_queries is False
    assert Config().log_queries is False
    with pytest.raises(ValueError, match="KB_LOG_QUERIES"):
        Config.from_env({"KB_LOG_QUERIES": "maybe"})


def test_kb_index_logs_its_summary_when_asked(tmp_path, monkeypatch, capsys, logged):
    logged(Config())  # restore the kb logger afterwards; main() configures its own handler
    articles = copy_all_articles(tmp_path / "articles")
    monkeypatch.setenv("KB_LOG_LEVEL", "info")
    monkeypatch.setenv("KB_LOG_FORMAT", "json")
    assert main(["index", "--articles", str(articles), "--index", str(tmp_path / "index"), "--quiet"]) == 0
    out, err = capsys.readouterr()
    (line,) = [json.loads(x) for x in err.splitlines()]
    assert line["logger"] == "kb.index" and line["message"] == "build finished"
    assert line["generation"] == generations.current_name(tmp_path / "index")
    assert (line["mode"], line["articles"], line["problems"]) == ("full", 4, 0)
    monkeypatch.delenv("KB_LOG_LEVEL")
    write_article(articles, "zinc.md", simple_article("Zinc", "Zinc."))
    assert main(["index", "--articles", str(articles), "--index", str(tmp_path / "index"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""  # the command's own output is enough by default


def test_a_new_generation_is_logged(tmp_path, logged):
    buffer = logged(Config(log_format="json", log_level="info"))
    articles = copy_all_articles(tmp_path / "articles")
    build(articles, tmp_path / "index")
    engine = Engine(tmp_path / "index", reload_seconds=0.0)
    try:
        first = engine.generation_name()
        write_article(articles, "zinc.md", simple_article("Zinc", "Zinc."))
        build(articles, tmp_path / "index")
        new = generations.current_name(tmp_path / "index")
        assert engine.wait_for_generation(new)
    finally:
        engine.close()
    swaps = [r for r in lines(buffer) if r["message"] == "generation swapped in"]
    assert swaps == [{**swaps[0], "logger": "kb.search", "generation": new, "previous": first}]
    builds = [r for r in lines(buffer) if r["message"] == "build finished"]
    assert [b["mode"] for b in builds] == ["full", "incremental"]


class ExplodingEngine:
    """The real engine, except that searching fails with the query in the message."""

    def __init__(self, engine):
        self.engine = engine

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def search(self, q, **kw):
        raise RuntimeError(f"boom on {q}")


@pytest.mark.parametrize("log_queries", [False, True])
def test_an_unexpected_error_is_a_json_500_logged_without_the_url(site, logged, log_queries):
    config = site.with_overrides(log_queries=log_queries)
    buffer = logged(config)
    engine = Engine(site.index_dir)
    try:
        client = testing.TestClient(create_app(config, engine=ExplodingEngine(engine)))
        server_log = io.StringIO()
        r = client.simulate_get("/search", query_string=f"q={SECRET}", wsgierrors=server_log)
    finally:
        engine.close()
    assert r.status_code == 500 and r.json["error"]["code"] == "internal_error"
    assert server_log.getvalue() == ""  # Falcon's own handler would write the URL there
    error, access = lines(buffer)
    assert (error["message"], error["route"], error["error"]) == ("unexpected error", "/search", "RuntimeError")
    assert "in on_get" in error.get("traceback", "") + error.get("exc_info", "")
    assert (access["status"], access["route"]) == (500, "/search")
    assert (SECRET in buffer.getvalue()) is log_queries
    assert client.simulate_get("/articles/nope").status_code == 404  # HTTP errors keep their handlers


def test_a_generation_that_fails_to_load_is_logged_once(tmp_path, logged):
    buffer = logged(Config(log_format="json", log_level="info"))
    articles = copy_all_articles(tmp_path / "articles")
    index = tmp_path / "index"
    build(articles, index)
    engine = Engine(index, reload_seconds=0.0)
    try:
        good = engine.generation_name()
        broken = generations.new_generation(index)  # no index in it
        generations.publish(index, broken)
        assert not engine.wait_for_generation(broken.name, timeout=0.5)
        assert engine.search("ivf").generation == good  # still served
    finally:
        engine.close()
    failures = [r for r in lines(buffer) if r["message"] == "generation failed to load"]
    assert len(failures) == 1
    assert failures[0]["logger"] == "kb.search" and failures[0]["generation"] == broken.name
    assert "Traceback" in failures[0]["exc_info"]
