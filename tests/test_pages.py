"""The HTML side: the no-JS search page, article pages, the widget's files, CORS, ETags.

Everything through ``falcon.testing`` on a small index (``tests/kb_site.py``).
"""

import re
import time
from html.parser import HTMLParser

import pytest
from falcon import testing

from kb import generations
from kb.indexer import build
from kb.pages import PAGE_SIZE, marked
from kb.search import Answer, DidYouMean
from kb.web import create_app

from .kb_site import FOLATE_ARTICLES, XSS, make_site

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CLINIC = "https://clinic.example"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return make_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def client(site):
    return testing.TestClient(create_app(site))


class Tags(HTMLParser):
    """Every start tag of a page, as ``(tag, {attr: value})``, and its visible text."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.text = [], []
        self.in_results, self._depth = [], 0  # the <a>s of <ol class=results>
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "ol" and attrs.get("class") == "results":
            self._depth = 1
        elif tag == "a" and self._depth:
            self.in_results.append(attrs)

    def handle_endtag(self, tag):
        if tag == "ol":
            self._depth = 0

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def page(client, path, **params):
    r = client.simulate_get(path, params=params or None, headers={"Accept": BROWSER_ACCEPT})
    return r, Tags(r.text)


def result_links(tags):
    """The result titles' links, in order (inside <ol class=results>)."""
    return [a["href"] for a in tags.in_results if "href" in a]


# -- the search page, no JavaScript ----------------------------------------


def test_empty_search_page_is_a_plain_get_form(client):
    r, tags = page(client, "/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    (form,) = tags.all("form")
    assert form["method"] == "get" and form["action"] == "/"
    (box,) = tags.all("input", name="q")
    assert box["type"] == "search" and box["value"] == ""
    assert tags.all("label", **{"for": box["id"]})
    assert tags.all("button", type="submit")
    assert tags.all("script", src="/widget.js")  # the page also includes the widget
    assert "Content-Security-Policy" in r.headers


def test_search_page_lists_results_with_deep_links_and_snippets(client):
    r, tags = page(client, "/", q="painful")
    assert r.status_code == 200
    api = client.simulate_get("/search", params={"q": "painful"}).json
    assert f"{api['total']} results for “painful”" in r.text
    assert result_links(tags) == [h["url"] for h in api["results"]]
    assert "/articles/ivf#is-egg-retrieval-painful" in result_links(tags)
    for hit in api["results"]:
        assert hit["snippet"] in r.text  # kb's snippet HTML, <mark> and all
    assert "<mark>" in r.text
    assert tags.all("input", name="q")[0]["value"] == "painful"  # the box keeps the query


def test_no_results_is_said_plainly(client):
    r, tags = page(client, "/", q="zzzyqx")
    assert r.status_code == 200
    assert "No results for “zzzyqx”" in r.text
    assert result_links(tags) == []


def test_pagination_ten_a_page_with_previous_and_next(client):
    total = client.simulate_get("/search", params={"q": "folate"}).json["total"]
    assert total >= FOLATE_ARTICLES > 2 * PAGE_SIZE
    pages = -(-total // PAGE_SIZE)
    seen = []
    for n in range(1, pages + 1):
        r, tags = page(client, "/", q="folate", page=str(n))
        assert r.status_code == 200
        links = result_links(tags)
        assert len(links) == (PAGE_SIZE if n < pages else total - PAGE_SIZE * (pages - 1))
        seen += links
        assert tags.all("ol", **{"class": "results"})[0]["start"] == str((n - 1) * PAGE_SIZE + 1)
        prev = tags.all("a", rel="prev")
        nxt = tags.all("a", rel="next")
        assert [a["href"] for a in prev] == ([] if n == 1 else [f"/?q=folate&page={n - 1}" if n > 2 else "/?q=folate"])
        assert [a["href"] for a in nxt] == ([] if n == pages else [f"/?q=folate&page={n + 1}"])
        assert f"Page {n} of {pages}" in r.text
    assert len(seen) == len(set(seen)) == total  # every result once, none twice
    api = client.simulate_get("/search", params={"q": "folate", "limit": 50}).json
    assert seen == [h["url"] for h in api["results"]]


def test_a_page_past_the_last_links_back_to_the_first(client):
    r, tags = page(client, "/", q="folate", page="99")
    assert r.status_code == 200
    assert "No results on page 99" in r.text
    assert tags.all("a", href="/?q=folate")


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1001", "2.5"])
def test_a_bad_page_number_is_a_400_page(client, bad):
    r, _ = page(client, "/", q="folate", page=bad)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "page must be a whole number from 1 to 1000" in r.text


def test_a_query_over_the_limit_is_a_400_page(client):
    r, _ = page(client, "/", q="a" * 10_001)
    assert r.status_code == 400
    assert "10000" in r.text


# -- escaping ----------------------------------------------------------------


def assert_no_injected_markup(tags):
    """Only kb's own tags: no <img>, and no <script> but the widget."""
    assert tags.all("img") == []
    assert [a.get("src") for t, a in tags.tags if t == "script"] == ["/widget.js"]
    for _, attrs in tags.tags:
        assert not any(name.startswith("on") for name in attrs), attrs


@pytest.mark.parametrize("q", ["iron", "iron tablets food", XSS, '"><script>alert(1)</script>'])
def test_article_markup_and_the_query_are_escaped_on_the_search_page(client, q):
    r, tags = page(client, "/", q=q)
    assert r.status_code == 200
    assert "<img" not in r.text and "onerror=window" not in r.text.replace("&lt;img src=x onerror=window", "")
    assert_no_injected_markup(tags)
    if q == "iron":
        assert "Iron &lt;img src=x onerror=window.__xss=1&gt; tablets" in r.text  # shown as text
        assert XSS in "".join(tags.text)


def test_article_markup_is_escaped_on_the_article_page(client):
    r, tags = page(client, "/articles/iron")
    assert r.status_code == 200
    assert "<img" not in r.text
    assert_no_injected_markup(tags)
    text = "".join(tags.text)
    assert XSS in text and "window.__xss = 2" in text  # visible as text


def test_marked_keeps_only_mark():
    assert marked("a <mark>b</mark> &amp; c") == "a <mark>b</mark> &amp; c"
    assert marked("<img src=x onerror=alert(1)><mark>x</mark>") == "&lt;img src=x onerror=alert(1)&gt;<mark>x</mark>"
    assert marked("&lt;b&gt;") == "&lt;b&gt;"
    assert marked(None) == ""


class AnsweringEngine:
    """The real engine, with an answer card, did-you-mean and hostile HTML added."""

    def __init__(self, engine):
        self.engine = engine

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def search(self, q, **kw):
        results = self.engine.search(q, **kw)
        results.answer = Answer(
            id="ivf#is-egg-retrieval-painful",
            question="Is egg retrieval painful?",
            question_html="Is egg retrieval <mark>painful</mark>? <img src=x onerror=alert(1)>",
            answer_html="It is done under <mark>sedation</mark>.",
            url="/articles/ivf#is-egg-retrieval-painful",
            slug="ivf",
            article_title="In Vitro Fertilisation",
        )
        results.did_you_mean = DidYouMean((("painfull", "painful"), ("egg", "egg")))
        results.unmatched = ["zzz"]
        return results


def test_answer_card_did_you_mean_and_unmatched_are_rendered(site):
    from kb.search import Engine

    engine = Engine(site.index_dir)
    client = testing.TestClient(create_app(site, engine=AnsweringEngine(engine)))
    r, tags = page(client, "/", q="painfull egg zzz")
    assert r.status_code == 200
    assert 'class="answer"' in r.text
    assert "Is egg retrieval <mark>painful</mark>? &lt;img src=x onerror=alert(1)&gt;" in r.text
    assert "It is done under <mark>sedation</mark>." in r.text
    assert tags.all("a", href="/articles/ivf#is-egg-retrieval-painful")
    assert tags.all("a", href="/?q=painful+egg")  # did you mean: a link to that search
    assert "Did you mean" in r.text and "<mark>painful</mark> egg" in r.text
    assert "No article mentions: zzz." in r.text
    assert_no_injected_markup(tags)
    # The answer card is on the first page only.
    r2, _ = page(client, "/", q="painfull egg zzz", page="2")
    assert 'class="answer"' not in r2.text
    engine.close()


def test_answer_card_is_not_repeated_as_a_result(client):
    r, tags = page(client, "/", q="is egg retrieval painful")
    assert 'class="answer"' in r.text
    answer_url = "/articles/ivf#is-egg-retrieval-painful"
    assert tags.all("a", href=answer_url)  # in the card
    assert answer_url not in [a.get("href") for a in tags.in_results]
    assert "/articles/ivf" in [a.get("href") for a in tags.in_results]  # the page it is from still is


# -- article pages: HTML for browsers, JSON for API clients --------------------


def test_browsers_get_the_article_page_with_the_search_anchors(client):
    data = client.simulate_get("/articles/ivf").json
    r, tags = page(client, "/articles/ivf")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    ids = {a["id"] for _, a in tags.tags if "id" in a}
    anchors = [e["anchor"] for e in data["faqs"] + data["sections"]]
    assert anchors and set(anchors) <= ids
    for line in data["html"].splitlines():  # kb's rendered article, as rendered
        assert line in r.text
    assert r.text.index("<h1") < r.text.index(data["summary"])  # title, then summary
    assert r.text.count("<h1") == 1  # the article's own "# Title", not a second one
    r, tags = page(client, "/articles/endometriosis")  # no "# Title" in the Markdown
    assert "<h1>Endometriosis</h1>" in r.text


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5", "text/html, application/json", "x"]
)
def test_api_clients_get_json(client, accept):
    headers = {"Accept": accept} if accept else {}
    r = client.simulate_get("/articles/ivf", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json["slug"] == "ivf"
    assert "Accept" in r.headers["vary"]


def test_unknown_article_404_in_the_clients_language(client):
    r, _ = page(client, "/articles/nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "There is no article at this address." in r.text
    r = client.simulate_get("/articles/nope")
    assert r.status_code == 404
    assert r.json["error"]["code"] == "not_found"


# -- the widget's files --------------------------------------------------------


@pytest.mark.parametrize(
    "path,ctype", [("/widget.js", "text/javascript; charset=utf-8"), ("/widget.css", "text/css; charset=utf-8")]
)
def test_widget_files_are_served_with_their_types_and_cached(client, path, ctype):
    r = client.simulate_get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == ctype
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"
    etag = r.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)
    again = client.simulate_get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag


def test_widget_is_small_plain_javascript(client):
    js = client.simulate_get("/widget.js").content
    assert len(js) <= 17 * 1024  # 16.3 KB with safeUrl and the analytics beacon
    text = js.decode("utf-8")
    assert "innerHTML" not in text and "eval(" not in text  # kb's HTML goes through appendMarked
    assert "AbortController" in text and 'role", "combobox"' in text


# -- CORS ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cors_client(site):
    return testing.TestClient(create_app(site.with_overrides(cors_origins=(CLINIC,))))


@pytest.mark.parametrize("path", ["/search?q=ivf", "/articles/ivf", "/health", "/search"])
def test_cors_allows_listed_origins_only(cors_client, path):
    allowed = cors_client.simulate_get(path, headers={"Origin": CLINIC})
    assert allowed.headers["access-control-allow-origin"] == CLINIC
    assert "Origin" in allowed.headers["vary"]
    other = cors_client.simulate_get(path, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    assert "Origin" in other.headers["vary"]  # a cache must not reuse one origin's answer for another


def test_cors_preflight_from_a_listed_origin(cors_client):
    r = cors_client.simulate_options(
        "/search",
        headers={"Origin": CLINIC, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "accept"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == CLINIC
    assert "GET" in r.headers["access-control-allow-methods"]


def test_no_cors_by_default(client):
    r = client.simulate_get("/search", params={"q": "ivf"}, headers={"Origin": CLINIC})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    assert "Origin" not in r.headers.get("vary", "")


def test_cors_wildcard_must_be_asked_for(site):
    client = testing.TestClient(create_app(site.with_overrides(cors_origins=("*",))))
    r = client.simulate_get("/search", params={"q": "ivf"}, headers={"Origin": "https://any.example"})
    assert r.headers["access-control-allow-origin"] == "*"


# -- ETag, 304, Cache-Control ----------------------------------------------------


class CountingEngine:
    """The real engine, counting searches and article look-ups."""

    def __init__(self, engine):
        self.engine = engine
        self.calls = 0

    def __getattr__(self, name):
        attr = getattr(self.engine, name)
        if name in ("search", "suggest", "article"):
            self.calls += 1
        return attr


CACHED = [
    ("/search", {"q": "painful"}, {}),
    ("/search", {"q": "painful", "limit": "2"}, {}),
    ("/suggest", {"q": "endo"}, {}),
    ("/articles/ivf", None, {}),
    ("/articles/ivf", None, {"Accept": BROWSER_ACCEPT}),
    ("/", {"q": "painful"}, {"Accept": BROWSER_ACCEPT}),
]


@pytest.mark.parametrize("path,params,headers", CACHED)
def test_etag_and_304_without_searching(site, path, params, headers):
    from kb.search import Engine

    engine = CountingEngine(Engine(site.index_dir))
    client = testing.TestClient(create_app(site, engine=engine))
    first = client.simulate_get(path, params=params, headers=headers)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "public, max-age=60"
    calls = engine.calls
    again = client.simulate_get(path, params=params, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=60"
    assert engine.calls == calls  # answered before any searching
    listed = client.simulate_get(path, params=params, headers={**headers, "If-None-Match": f'"x", {etag}'})
    assert listed.status_code == 304
    stale = client.simulate_get(path, params=params, headers={**headers, "If-None-Match": 'W/"0000"'})
    assert stale.status_code == 200 and stale.headers["etag"] == etag
    engine.engine.close()


def test_etag_differs_by_url_and_representation(client):
    etags = set()
    for path, params, headers in CACHED:
        r = client.simulate_get(path, params=params, headers=headers)
        etags.add(r.headers["etag"])
    assert len(etags) == len(CACHED)


def test_a_new_generation_changes_every_etag(tmp_path):
    config = make_site(tmp_path, reload_seconds=0.0)
    client = testing.TestClient(create_app(config))
    old = client.simulate_get("/search", params={"q": "iron"})
    (config.articles_dir / "iron2.md").write_text("---\ntitle: More iron\n---\n\nIron again.\n", encoding="utf-8")
    build(config.articles_dir, config.index_dir)
    new_generation = generations.current_name(config.index_dir)
    for _ in range(200):  # the engine switches within reload_seconds (here: at once, in the background)
        fresh = client.simulate_get("/search", params={"q": "iron"}, headers={"If-None-Match": old.headers["etag"]})
        if fresh.status_code == 200 and fresh.json["generation"] == new_generation:
            break
        time.sleep(0.02)
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != old.headers["etag"]
    assert fresh.json["total"] > old.json["total"]


def test_health_and_errors_are_not_cached(client):
    assert client.simulate_get("/health").headers["cache-control"] == "no-store"
    for path, params in [("/search", None), ("/articles/nope", None), ("/nowhere", None)]:
        r = client.simulate_get(path, params=params)
        assert r.status_code >= 400
        assert r.headers["cache-control"] == "no-store"
        assert "etag" not in r.headers
