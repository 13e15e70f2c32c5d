"""The JSON API through falcon.testing: results, articles, health, errors, XSS, CORS."""

import re

import pytest
from falcon import testing

from kb import generations
from kb.config import Config
from kb.web import create_app

from .conftest import ALL_COUNTS, CLINIC_QUESTIONS, CLINIC_SLUG

ONLY_MARK = re.compile(r"<(?!/?mark>)")
RESULT_FIELDS = {"id": str, "kind": str, "slug": str, "title": str, "url": str, "snippet": str, "score": (int, float)}
CLINIC_FAQ_IDS = {
    f"{CLINIC_SLUG}#what-is-recurrent-miscarriage",
    f"{CLINIC_SLUG}#what-are-the-causes-of-recurrent-miscarriages",
    f"{CLINIC_SLUG}#how-are-recurrent-miscarriages-diagnosed",
    f"{CLINIC_SLUG}#what-can-be-done-to-prevent-recurrent-miscarriages",
}


@pytest.fixture(scope="module")
def config(built):
    articles, index, _ = built
    return Config(articles_dir=articles, index_dir=index)


@pytest.fixture(scope="module")
def client(config):
    return testing.TestClient(create_app(config))


def search(client, query_string, status=200):
    resp = client.simulate_get("/search", query_string=query_string)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    return resp.json


def assert_error(resp, status, code, parameter=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "parameter"}
    assert error.get("parameter") == parameter
    return error


# -- /search -----------------------------------------------------------------------


def test_search_finds_the_clinic_article_and_its_faqs(client):
    body = search(client, "q=miscarriage")
    results = body["results"]
    ids = [r["id"] for r in results]
    assert results[0]["slug"] == CLINIC_SLUG  # the clinic article or one of its FAQ entries
    assert CLINIC_SLUG in ids and CLINIC_FAQ_IDS <= set(ids)  # all on the first page
    article = results[ids.index(CLINIC_SLUG)]
    assert (article["kind"], article["url"], article["title"]) == (
        "article",
        f"/articles/{CLINIC_SLUG}",
        "Recurrent Miscarriages",
    )
    # the clinic article before any other article (endometriosis mentions a miscarriage in passing)
    assert [r["id"] for r in results if r["kind"] == "article"][0] == CLINIC_SLUG
    articles = search(client, "q=miscarriage&kind=article")["results"]
    assert articles[0]["id"] == CLINIC_SLUG
    assert all("<mark>" in r["snippet"] or "<mark>" in r.get("title_html", "") for r in results)
    assert "<mark>" in results[0]["snippet"]
    # among FAQ entries the clinic's own are the top ones
    faqs = search(client, "q=miscarriage&kind=faq&limit=5")["results"]
    assert CLINIC_FAQ_IDS <= {r["id"] for r in faqs}


def test_search_response_fields(client, config):
    body = search(client, "q=miscarriage&limit=3&offset=1")
    assert body["query"] == "miscarriage"
    assert body["limit"] == 3 and body["offset"] == 1
    assert isinstance(body["total"], int) and body["total"] >= 5
    assert body["generation"] == generations.current_name(config.index_dir)
    assert isinstance(body["took_ms"], (int, float))
    assert len(body["results"]) == 3
    for result in body["results"]:
        for name, kind in RESULT_FIELDS.items():
            assert isinstance(result[name], kind), (name, result)
        assert result["kind"] in ("article", "section", "faq")
        assert result["url"].startswith(f"/articles/{result['slug']}")
        if result["kind"] != "article":
            assert result["id"] == f"{result['slug']}#{result['url'].split('#')[1]}"


def test_search_paging_matches_one_page(client):
    full = search(client, "q=miscarriage&limit=50")["results"]
    pages = [search(client, f"q=miscarriage&limit=2&offset={o}")["results"] for o in range(0, len(full), 2)]
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in full]


@pytest.mark.parametrize("kind", ["article", "section", "faq"])
def test_search_kind(client, kind):
    results = search(client, f"q=fertilisation+miscarriage+egg&kind={kind}&limit=50")["results"]
    assert results and {r["kind"] for r in results} == {kind}


def test_search_with_no_match(client):
    body = search(client, "q=xyzzyplugh")
    assert body["total"] == 0 and body["results"] == []


# -- /articles/{slug} ----------------------------------------------------------------


def test_article(client):
    resp = client.simulate_get(f"/articles/{CLINIC_SLUG}")
    assert resp.status_code == 200
    a = resp.json
    assert a["title"] == "Recurrent Miscarriages"
    assert a["slug"] == CLINIC_SLUG
    assert a["url"] == f"/articles/{CLINIC_SLUG}"
    assert a["summary"].startswith("Recurrent miscarriage is the loss")
    assert "miscarriage" in a["tags"] and "recurrent pregnancy loss" in a["synonyms"]
    assert a["language"] == "en"
    assert a["sections"] == []
    assert [f["question"] for f in a["faqs"]] == CLINIC_QUESTIONS
    for faq in a["faqs"]:
        assert faq["answer"]
        assert faq["url"] == f"/articles/{CLINIC_SLUG}#{faq['anchor']}"
        assert f'id="{faq["anchor"]}"' in a["html"]
    assert a["html"].startswith("<h1")


def test_article_sections(client):
    a = client.simulate_get("/articles/ivf").json
    assert [(s["heading"], s["anchor"], s["url"]) for s in a["sections"]] == [
        ("How it works", "how-it-works", "/articles/ivf#how-it-works"),
        ("Success rates", "success-rates", "/articles/ivf#success-rates"),
    ]
    assert "<strong>embryo transfer</strong>" in a["html"]


def test_article_html_escapes_raw_html(client):
    a = client.simulate_get("/articles/unsafe").json
    assert not re.search(r"<\s*(script|img)", a["html"], re.I)
    assert "&lt;script&gt;" in a["html"]


def test_unknown_article_is_404_json(client):
    assert_error(client.simulate_get("/articles/no-such-article"), 404, "not_found")


# -- /health ---------------------------------------------------------------------


def test_health(client, config):
    resp = client.simulate_get("/health")
    assert resp.status_code == 200
    h = resp.json
    assert h["status"] == "ok"
    assert h["generation"] == generations.current_name(config.index_dir)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", h["built_at"])
    assert h["counts"] == ALL_COUNTS
    assert h["documents"] == sum(ALL_COUNTS.values())
    assert h["problems"] == 0
    assert re.match(r"^\d+\.\d+", h["version"])


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query_string, parameter",
    [
        ("", "q"),
        ("limit=5", "q"),
        ("q=ivf&limit=0", "limit"),
        ("q=ivf&limit=51", "limit"),
        ("q=ivf&limit=abc", "limit"),
        ("q=ivf&limit=1.5", "limit"),
        ("q=ivf&offset=-1", "offset"),
        ("q=ivf&offset=abc", "offset"),
        ("q=ivf&kind=foo", "kind"),
        ("q=" + "a" * 10_001, "q"),
    ],
)
def test_bad_parameters(client, query_string, parameter):
    resp = client.simulate_get("/search", query_string=query_string)
    assert_error(resp, 400, "bad_parameter", parameter)


def test_unknown_path_is_404_json(client):
    assert_error(client.simulate_get("/nothing/here"), 404, "not_found")


def test_post_search_is_405_json(client):
    resp = client.simulate_post("/search", query_string="q=ivf")
    assert_error(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["allow"]


def test_no_index_is_503(tmp_path):
    (tmp_path / "index").mkdir()
    client = testing.TestClient(create_app(Config(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index")))
    for path, qs in [("/search", "q=ivf"), ("/health", None), ("/articles/ivf", None)]:
        resp = client.simulate_get(path, query_string=qs)
        assert_error(resp, 503, "index_missing")
        assert resp.headers.get("retry-after")


TYPED = {
    "unbalanced quote": "q=%22in+vitro",
    "raw quote": 'q="egg',
    "operators": "q=AND+OR",
    "field": "q=title:",
    "star": "q=*",
    "question mark": "q=?",
    "5000 chars": "q=" + "ivf+egg+" * 625,
    "NUL": "q=ivf%00egg",
    "only NUL": "q=%00",
    "invalid UTF-8": "q=%FF%FE%80",
    "emoji": "q=%F0%9F%A4%B0%20pregnancy",
    "long word": "q=" + "pneumono" * 400,
    "parentheses": "q=((((",
    "tildes": "q=~~~",
    "boost": "q=^2",
    "300 a": "q=" + "a" * 300,
    "empty": "q=",
    "spaces": "q=%20%20%20",
    "html": "q=%3Cscript%3Ealert(1)%3C/script%3E",
    "percent": "q=100%25",
    "backslashes": "q=\\\\\\",
    "many words": "q=" + "+".join(f"w{n}" for n in range(200)),
    "repeated q": "q=ivf&q=egg",
    "limit and kind": "q=egg&limit=50&offset=10000&kind=faq",
}


@pytest.mark.parametrize("query_string", list(TYPED.values()), ids=list(TYPED))
def test_nothing_a_user_can_type_gives_a_500(client, query_string):
    resp = client.simulate_get("/search", query_string=query_string)
    assert resp.status_code in (200, 400), resp.text
    if resp.status_code == 400:
        assert_error(resp, 400, "bad_parameter", resp.json["error"].get("parameter"))
        return
    body = resp.json
    assert isinstance(body["results"], list) and isinstance(body["total"], int)
    for r in body["results"]:
        assert not ONLY_MARK.search(r["snippet"])


@pytest.mark.parametrize("path", ["/articles/%00", "/articles/%FF", "/articles/" + "x" * 2000, "/articles/a%2Fb"])
def test_odd_article_paths_are_not_500(client, path):
    resp = client.simulate_get(path)
    assert_error(resp, 404, "not_found")


# -- XSS --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query_string", ["q=vitamin", "q=vitamin&kind=faq", "q=script+alert+img+safety+markup", "q=title+xss"]
)
def test_article_html_never_reaches_results(client, query_string):
    results = search(client, query_string + "&limit=50")["results"]
    assert any(r["slug"] == "unsafe" for r in results)
    for r in results:
        for name in ("snippet", "title_html"):
            text = r.get(name, "")
            assert "<script" not in text.lower() and "<img" not in text.lower(), (name, text)
            assert not ONLY_MARK.search(text), (name, text)


def test_unsafe_title_is_escaped_in_title_html(client):
    results = search(client, "q=safety&limit=50")["results"]
    hit = next(r for r in results if r["id"] == "unsafe")
    assert "&lt;script&gt;" in hit["title_html"]
    assert "<mark>Safety</mark>" in hit["title_html"]


# -- CORS -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cors_client(config):
    return testing.TestClient(create_app(config.with_overrides(cors_origins=("https://clinic.example",))))


def test_cors_allowed_origin(cors_client):
    resp = cors_client.simulate_get("/search", query_string="q=ivf", headers={"Origin": "https://clinic.example"})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "https://clinic.example"


def test_cors_allowed_origin_on_errors_too(cors_client):
    resp = cors_client.simulate_get("/search", query_string="limit=0", headers={"Origin": "https://clinic.example"})
    assert resp.status_code == 400
    assert resp.headers["access-control-allow-origin"] == "https://clinic.example"


@pytest.mark.parametrize("origin", ["https://evil.example", "https://clinic.example.evil.com", None])
def test_cors_other_origins(cors_client, origin):
    headers = {"Origin": origin} if origin else {}
    resp = cors_client.simulate_get("/search", query_string="q=ivf", headers=headers)
    assert resp.status_code == 200
    assert "access-control-allow-origin" not in resp.headers


def test_no_cors_unless_configured(client):
    resp = client.simulate_get("/search", query_string="q=ivf", headers={"Origin": "https://clinic.example"})
    assert "access-control-allow-origin" not in resp.headers


def test_explain_is_off_by_default_and_explains_every_hit_when_asked(client):
    plain = search(client, "q=painful+egg")
    assert plain["results"] and all("explain" not in h for h in plain["results"])
    explained = search(client, "q=painful+egg&explain=true")
    assert [h["id"] for h in explained["results"]] == [h["id"] for h in plain["results"]]
    for hit in explained["results"]:
        e = hit["explain"]
        assert list(e["rules"]) == ["words_matched", "typos", "score"]
        assert e["rules"]["score"]["value"] == pytest.approx(hit["score"], abs=1e-3)
        assert [s["word"] for s in e["slots"]] == ["painful", "egg"]
        for slot in e["slots"]:
            for alt in slot["alternatives"]:
                for term in alt.get("terms", [alt]):
                    assert set(term["fields"]) <= {"title", "keywords", "article_title", "summary", "body"}


def test_explain_must_be_true_or_false(client):
    body = search(client, "q=egg&explain=perhaps", status=400)
    assert body["error"]["parameter"] == "explain"
