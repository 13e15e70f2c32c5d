"""Hostile URLs never reach an href: the parser, the article HTML, the JSON API, the pages.

One rule (:func:`kb.urls.safe_url`) is checked here against an oracle written
independently of it: what a browser would make of an ``href`` value (entities
decoded, tabs and newlines dropped, leading controls and spaces stripped).
"""

import html
import json
import re
from html.parser import HTMLParser

import pytest
from falcon import testing

from kb import articles as articles_module
from kb.articles import parse_article, render_html
from kb.cli import main
from kb.config import Config
from kb.errors import ArticleProblem
from kb.indexer import build
from kb.urls import LINK_SCHEMES, PAGE_SCHEMES, safe_url
from kb.web import create_app

from .conftest import simple_article, write_article

#: From issues 8 and 12, and the obvious variants: case, whitespace, control
#: characters, HTML entities, other hosts.
HOSTILE = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "\x01javascript:alert(1)",
    "\x00javascript:alert(1)",
    "javascript\x0b:alert(1)",
    "\u0085javascript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#0000106avascript:alert(1)",
    "java&#x09;script:alert(1)",
    "java&Tab;script:alert(1)",
    "javascript&colon;alert(1)",
    "&amp;#106;avascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "//evil.example/x",
    " //evil.example/x",
    "\\\\evil.example/x",
    "/\\evil.example/x",
    "\\/evil.example/x",
    "https:///evil.example",
    "http:evil.example",
    "https://",
    "file:///etc/passwd",
    "ftp://evil.example/x",
]
#: Kept as they are.
SAFE = [
    "/articles/ivf",
    "/articles/ivf#how-it-works",
    "ivf#faq",
    "?q=iron",
    "#top",
    "https://example.org/a?b=1&c=2",
    "http://example.org",
    "HTTPS://Example.org/A",
    "/search?q=a:b",
]


def browser_reads(value):
    """What a browser makes of an attribute value (already entity-decoded) as a URL."""
    value = re.sub(r"[\t\n\r]", "", value)
    return value.lstrip("".join(map(chr, range(0x21)))).lower()


def is_dangerous(value):
    """Whether a browser would run script from, or leave the site for a host in, ``value``."""
    seen = browser_reads(value)
    return bool(re.match(r"(javascript|data|vbscript|file):", seen) or re.match(r"[/\\]{2}", seen))


class _Attributes(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("href", "src") and value is not None]


def urls_in_html(text):
    """Every href and src of ``text``, decoded as a browser decodes attributes."""
    parser = _Attributes()
    parser.feed(text)
    parser.close()
    return parser.urls


def json_urls(value):
    """Every ``url`` string in a JSON value, and every href/src in its ``*html`` strings."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("url", "href") and isinstance(item, str):
                yield item
            elif key.endswith("html") and isinstance(item, str):
                yield from urls_in_html(item)
            else:
                yield from json_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_urls(item)


def test_the_oracle_sees_the_hostile_forms():
    """The oracle itself: most hostile forms are dangerous as written (or once decoded)."""
    decoded = [html.unescape(html.unescape(u)) for u in HOSTILE]
    assert sum(is_dangerous(u) for u in decoded) >= len(HOSTILE) - 6
    assert not any(is_dangerous(u) for u in SAFE)


@pytest.mark.parametrize("url", HOSTILE)
def test_safe_url_refuses(url):
    assert safe_url(url) is None
    assert safe_url(url, PAGE_SCHEMES) is None


@pytest.mark.parametrize("url", SAFE)
def test_safe_url_keeps(url):
    assert safe_url(url) == url
    assert safe_url(url, PAGE_SCHEMES) == url


@pytest.mark.parametrize("url", ["mailto:clinic@example.org", "tel:+1-555-0100"])
def test_mail_and_phone_links_only_in_article_text(url):
    assert safe_url(url, LINK_SCHEMES) == url
    assert safe_url(url, PAGE_SCHEMES) is None


@pytest.mark.parametrize("url", HOSTILE)
def test_front_matter_url_is_refused(tmp_path, url):
    path = write_article(tmp_path, "a.md", simple_article("A", "Text.", extra=f"url: {json.dumps(url)}\n"))
    with pytest.raises(ArticleProblem) as caught:
        parse_article(path)
    assert caught.value.line == 3  # ---, title, url
    assert str(caught.value).startswith(f"{path}:3: url must be a relative path or an http(s) URL")


@pytest.mark.parametrize("url", SAFE)
def test_front_matter_url_is_kept(tmp_path, url):
    path = write_article(tmp_path, "a.md", simple_article("A", "Text.", extra=f"url: {json.dumps(url)}\n"))
    assert parse_article(path).url == url


def markdown_links(url):
    """Markdown that links to (or shows an image from) ``url`` in each way it can."""
    return (
        f"Inline [a]({url}) and [b](<{url}>) and ![c]({url}) and [d][ref] and ![e][ref].\n\n[ref]: {url}\n\n<{url}>\n"
    )


@pytest.mark.parametrize("url", HOSTILE)
def test_markdown_links_never_reach_an_href(url):
    rendered = render_html(markdown_links(url))
    found = urls_in_html(rendered)
    assert not [u for u in found if is_dangerous(u)], rendered
    assert all(safe_url(u) for u in found), rendered


@pytest.mark.parametrize("url", SAFE + ["mailto:clinic@example.org", "tel:+1-555-0100"])
def test_markdown_links_keep_safe_urls(url):
    rendered = render_html(f"[a]({url})")
    assert urls_in_html(rendered) == [url]


def test_autolinked_email_survives():
    rendered = render_html("Write to <clinic@example.org>.")
    assert urls_in_html(rendered) == ["mailto:clinic@example.org"]


def test_kb_index_reports_a_hostile_url_and_indexes_the_rest(tmp_path, capsys):
    articles = tmp_path / "articles"
    write_article(articles, "good.md", simple_article("Good", "Iron."))
    write_article(articles, "bad.md", simple_article("Bad", "Zinc.", extra="url: JaVaScRiPt:alert(1)\n"))
    status = main(["index", "--articles", str(articles), "--index", str(tmp_path / "index"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 1
    assert f"{articles / 'bad.md'}:3: url must be a relative path or an http(s) URL" in err
    client = testing.TestClient(create_app(Config(articles_dir=articles, index_dir=tmp_path / "index")))
    assert client.simulate_get("/articles/good").status_code == 200
    assert client.simulate_get("/articles/bad").status_code == 404


# -- through the service: a generation built before the check ----------------------


@pytest.fixture(scope="module")
def old_generation(tmp_path_factory):
    """A site whose index holds every hostile URL (built with the front-matter check off),
    as one built by an earlier kb would, and whose article bodies link to each of them."""
    root = tmp_path_factory.mktemp("hostile")
    articles = root / "articles"
    for n, url in enumerate(HOSTILE):
        body = f"Zebra note {n}.\n\n{markdown_links(url)}\n## FAQ\n\n### What is zebra {n}?\n\nZebra {n} is a note.\n"
        write_article(articles, f"z{n:02d}.md", simple_article(f"Zebra {n}", body, extra=f"url: {json.dumps(url)}\n"))
    patch = pytest.MonkeyPatch()
    patch.setattr(articles_module, "check_page_url", lambda url: None)
    try:
        report = build(articles, root / "index")
    finally:
        patch.undo()
    assert report.ok, [str(p) for p in report.problems]
    return Config(articles_dir=articles, index_dir=root / "index")


@pytest.fixture(scope="module")
def hostile_client(old_generation):
    return testing.TestClient(create_app(old_generation))


def assert_no_dangerous(urls):
    urls = list(urls)
    assert urls, "nothing was checked"
    bad = [u for u in urls if is_dangerous(html.unescape(u)) or safe_url(u) is None]
    assert not bad, bad


@pytest.mark.parametrize("n", range(len(HOSTILE)))
def test_json_api_never_returns_a_hostile_url(hostile_client, n):
    search = hostile_client.simulate_get("/search", params={"q": f"what is zebra {n}"}).json
    assert search["answer"] and search["answer"]["slug"] == f"z{n:02d}"
    assert search["answer"]["url"].endswith(f"#what-is-zebra-{n}")
    assert_no_dangerous(json_urls(search))
    grouped = hostile_client.simulate_get("/search", params={"q": f"zebra {n}", "group": "article"}).json
    assert_no_dangerous(json_urls(grouped))
    suggest = hostile_client.simulate_get("/suggest", params={"q": f"zebra {n}"}).json
    assert suggest["suggestions"]
    assert_no_dangerous(json_urls(suggest))
    article = hostile_client.simulate_get(f"/articles/z{n:02d}").json
    assert article["url"] == f"/articles/z{n:02d}"
    assert "path" not in article
    assert_no_dangerous(json_urls(article))


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("n", range(len(HOSTILE)))
def test_pages_never_link_a_hostile_url(hostile_client, n):
    page = hostile_client.simulate_get("/", params={"q": f"what is zebra {n}"}, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and f'#what-is-zebra-{n}"' in page.text
    assert_no_dangerous(urls_in_html(page.text))
    article = hostile_client.simulate_get(f"/articles/z{n:02d}", headers={"Accept": BROWSER_ACCEPT})
    assert article.status_code == 200 and "Zebra note" in article.text
    assert_no_dangerous(urls_in_html(article.text))
