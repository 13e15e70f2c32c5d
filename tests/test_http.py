"""HTTP details under odd requests: conditional requests, blank and repeated parameters."""

import pytest
from falcon import testing

from kb import generations
from kb.caching import ETAG_KEY, generation_etag
from kb.config import Config
from kb.web import create_app

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def config(built):
    articles, index, _ = built
    return Config(articles_dir=articles, index_dir=index)


@pytest.fixture(scope="module")
def client(config):
    return testing.TestClient(create_app(config))


NOT_OK = [
    ("/articles/no-such-article", None, {}, 404),
    ("/articles/no-such-article", None, {"Accept": BROWSER_ACCEPT}, 404),
    ("/nowhere", None, {}, 404),
    ("/search", None, {}, 400),
    ("/search", "q=ivf&limit=abc", {}, 400),
    ("/search", "q=ivf&limit=", {}, 400),
    ("/suggest", "q=ivf&limit=99", {}, 400),
    ("/", "q=ivf&page=0", {"Accept": BROWSER_ACCEPT}, 400),
]


@pytest.mark.parametrize("path,query,headers,status", NOT_OK)
@pytest.mark.parametrize("tag", ["*", 'W/"x", *', "forged"])
def test_if_none_match_never_hides_an_error(client, config, path, query, headers, status, tag):
    if tag == "forged":  # the ETag this URL would have without kb's key
        generation = generations.current_name(config.index_dir)
        variant = ("html" if headers else "json") if path.startswith("/articles/") else ""
        tag = generation_etag(generation, path + (f"?{query}" if query else ""), variant)
    r = client.simulate_get(path, query_string=query, headers={**headers, "If-None-Match": tag})
    assert r.status_code == status
    assert "etag" not in r.headers


@pytest.mark.parametrize(
    "path,query,headers",
    [("/search", "q=ivf", {}), ("/articles/ivf", None, {}), ("/", "q=ivf", {"Accept": BROWSER_ACCEPT})],
)
def test_if_none_match_star_turns_a_200_into_a_304(client, path, query, headers):
    r = client.simulate_get(path, query_string=query, headers={**headers, "If-None-Match": "*"})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["etag"] == client.simulate_get(path, query_string=query, headers=headers).headers["etag"]


def test_one_etag_key_per_index_directory(config):
    first = testing.TestClient(create_app(config)).simulate_get("/search", query_string="q=ivf")
    second = testing.TestClient(create_app(config)).simulate_get("/search", query_string="q=ivf")
    assert first.headers["etag"] == second.headers["etag"]  # two workers agree
    assert len((config.index_dir / ETAG_KEY).read_bytes()) == 32
    assert (config.index_dir / ETAG_KEY).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "path,query,parameter",
    [
        ("/search", "q=ivf&limit=", "limit"),
        ("/search", "q=ivf&limit=%20", "limit"),
        ("/search", "q=ivf&limit=1&limit=2", "limit"),
        ("/search", "q=ivf&limit=2&limit=2", "limit"),
        ("/search", "q=ivf&offset=", "offset"),
        ("/search", "q=ivf&offset=0&offset=10", "offset"),
        ("/search", "q=ivf&kind=", "kind"),
        ("/search", "q=ivf&kind=faq&kind=article", "kind"),
        ("/search", "q=ivf&group=", "group"),
        ("/search", "q=ivf&group=article&group=article", "group"),
        ("/search", "q=ivf&q=iron", "q"),
        ("/suggest", "q=iv&limit=", "limit"),
        ("/suggest", "q=iv&limit=1&limit=2", "limit"),
        ("/suggest", "q=iv&q=en", "q"),
    ],
)
def test_blank_or_repeated_parameters_are_a_400_naming_them(client, path, query, parameter):
    r = client.simulate_get(path, query_string=query)
    assert r.status_code == 400, r.text
    assert r.json["error"]["code"] == "bad_parameter"
    assert r.json["error"]["parameter"] == parameter
    assert parameter in r.json["error"]["message"]


@pytest.mark.parametrize("query", ["q=ivf&page=", "q=ivf&page=1&page=2", "q=ivf&q=iron"])
def test_blank_or_repeated_parameters_on_the_search_page(client, query):
    r = client.simulate_get("/", query_string=query, headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "page" in r.text if "page" in query else "q is given 2 times" in r.text


def test_absent_typed_parameters_take_their_defaults(client):
    r = client.simulate_get("/search", query_string="q=ivf")
    assert r.status_code == 200 and r.json["limit"] == 10 and r.json["offset"] == 0
