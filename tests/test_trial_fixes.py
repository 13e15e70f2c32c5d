"""What the staff trial of issue 8 found besides the build rules, one test each.

Half-typed words before punctuation, HEAD, an empty q, kb serve without
articles, the HTML 404 and the icon, an empty synonym phrase, and article HTML
cached across a reindex.
"""

import pytest
from falcon import testing

from kb import generations
from kb.cli import main
from kb.config import Config
from kb.errors import KBError
from kb.indexer import build
from kb.search import Engine
from kb.synonyms import parse_synonyms
from kb.web import create_app, get_app

from .conftest import CLINIC_SLUG, copy_all_articles, write_article

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(built):
    articles, index, _ = built
    return testing.TestClient(create_app(Config(articles_dir=articles, index_dir=index, reload_seconds=0)))


@pytest.fixture(scope="module")
def engine(built):
    engine = Engine(built[1], reload_seconds=0)
    yield engine
    engine.close()


# -- a half-typed word followed by punctuation is still a prefix ------------------


@pytest.mark.parametrize("q", ["misca?", "misca.", "recurrent misc,", "misc*", "miscarr!"])
def test_half_typed_word_before_punctuation_matches_as_a_prefix(engine, q):
    results = engine.search(q)
    assert results.hits and results.hits[0].slug == CLINIC_SLUG, q
    assert "<mark>misc" in results.hits[0].title_html + results.hits[0].snippet


def test_a_space_after_the_word_still_ends_it(engine):
    assert engine.search("misca ").hits == []


# -- HEAD wherever GET -------------------------------------------------------------


@pytest.mark.parametrize(
    "path, query",
    [
        ("/search", "q=ivf"),
        ("/suggest", "q=mis"),
        (f"/articles/{CLINIC_SLUG}", None),
        ("/health", None),
        ("/openapi.json", None),
        ("/", "q=ivf"),
        ("/widget.js", None),
        ("/widget.css", None),
        ("/favicon.ico", None),
    ],
)
def test_head_answers_like_get_without_a_body(client, path, query):
    get = client.simulate_get(path, query_string=query)
    head = client.simulate_head(path, query_string=query)
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers.get("etag") == get.headers.get("etag")


def test_head_of_an_unknown_article_is_404(client):
    assert client.simulate_head("/articles/no-such-thing").status_code == 404


# -- an empty q ---------------------------------------------------------------------


@pytest.mark.parametrize("q", ["", "   ", "%20%09"])
def test_empty_q_is_a_400_naming_q(client, q):
    resp = client.simulate_get("/search", query_string=f"q={q}")
    assert resp.status_code == 400
    assert resp.json["error"]["parameter"] == "q"


@pytest.mark.parametrize("q", ["", "   ", "?!", "\x00"])
def test_engine_never_has_high_confidence_in_nothing(engine, q):
    results = engine.search(q)
    assert results.hits == [] and results.total == 0
    assert results.confidence == "low"


# -- kb serve / waitress-serve without articles --------------------------------------


def test_serve_without_articles_or_index_fails_like_index(tmp_path, capsys, monkeypatch):
    def serve(sock, config, workers):
        sock.close()
        raise AssertionError("kb serve would serve an empty index")

    monkeypatch.setattr("kb.serving.serve", serve)
    missing = tmp_path / "nope"
    status = main(["serve", "--articles", str(missing), "--index", str(tmp_path / "index"), "--port", "0"])
    assert status == 1
    err = capsys.readouterr().err
    assert f"kb: error: articles directory {missing} does not exist" in err
    assert generations.current_name(tmp_path / "index") is None


def test_get_app_without_articles_or_index_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_ARTICLES_DIR", str(tmp_path / "nope"))
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "index"))
    with pytest.raises(KBError, match="does not exist"):
        get_app()


def test_get_app_serves_an_existing_index_without_articles(built, tmp_path, monkeypatch):
    monkeypatch.setenv("KB_ARTICLES_DIR", str(tmp_path / "nope"))
    monkeypatch.setenv("KB_INDEX_DIR", str(built[1]))
    resp = testing.TestClient(get_app()).simulate_get("/search", query_string="q=ivf")
    assert resp.status_code == 200 and resp.json["results"]


# -- HTML 404 for browsers, the icon -------------------------------------------------


def test_browser_gets_an_html_404_page(client):
    resp = client.simulate_get("/no/such/page", headers=BROWSER)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert "nothing at this address" in resp.text and "<form" in resp.text


def test_api_client_still_gets_json_404(client):
    resp = client.simulate_get("/no/such/page")
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found"


def test_favicon_is_served(client):
    resp = client.simulate_get("/favicon.ico", headers=BROWSER)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "image/x-icon"
    assert resp.content[:4] == b"\x00\x00\x01\x00"  # an ICO header


# -- synonyms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line", ["ivf, , in vitro", "ivf,, in vitro", "ivf, in vitro,", "pregnancy loss, => miscarriage"]
)
def test_synonym_line_with_an_empty_phrase_is_reported_with_its_line(line):
    groups, problems = parse_synonyms(f"# comment\nhigh blood pressure, hypertension\n{line}\n", "syn.txt")
    assert groups == [(["high blood pressure", "hypertension"],) * 2]
    assert [(p.line, "empty phrase" in p.message) for p in problems] == [(3, True)]
    assert str(problems[0]).startswith("syn.txt:3: ")


# -- article HTML across a reindex -------------------------------------------------------


def test_old_generations_html_is_never_served_for_the_new_one(tmp_path):
    """A request still on the old generation stores its HTML after the swap."""
    articles, index = copy_all_articles(tmp_path / "articles"), tmp_path / "index"
    write_article(articles, "note.md", "---\ntitle: Note\n---\n\nThe old wording.\n")
    build(articles, index)
    engine = Engine(index, reload_seconds=0)
    try:
        assert "old wording" in engine.article("note")["html"]
        with engine.generations.acquire() as old:  # a slow request holding the old generation
            write_article(articles, "note.md", "---\ntitle: Note\n---\n\nThe new wording.\n")
            new = build(articles, index).generation
            assert engine.wait_for_generation(new)
            engine._html.clear()  # as if the swap had cleared it before the slow request stored
            assert "old wording" in engine._article(old, "note")["html"]
        article = engine.article("note")
        assert article["generation"] == new
        assert "new wording" in article["html"] and "old wording" not in article["html"]
    finally:
        engine.close()
