"""End to end in real headless Chromium: the widget on another origin, the no-JS page, XSS.

kb runs for real (waitress on 127.0.0.1, a port of its own) over a small index;
a second loopback server on another port serves ``embed.html``, a page holding
only the documented snippet, so every API call the widget makes is cross-origin
and allowed by ``KB_CORS_ORIGINS``.  Needs Debian's ``chromium`` and the
``playwright`` package (``scripts/install-test-deps.sh``); Playwright's own
browser downloads are never used.

Screenshots: ``tests/artifacts/widget.png`` on every run; ``docs/widget.png``
(the README's) when it is missing or ``KB_UPDATE_SCREENSHOTS=1``.
"""

import functools
import json
import os
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.web import create_app

from .kb_site import XSS, make_site

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"
DOCS_SCREENSHOT = REPO / "docs" / "widget.png"
# Read at import: conftest.py clears KB_* variables before each test.
UPDATE_DOCS = os.environ.get("KB_UPDATE_SCREENSHOTS") == "1"
SNIPPET = '<script src="{kb}/widget.js" defer></script>\n<div data-kb-search></div>\n'

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium: run scripts/install-test-deps.sh"
    ),
    pytest.mark.skipif(sync_playwright is None, reason="needs the playwright package: pip install -e '.[test]'"),
]


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_directory(directory):
    """A loopback static file server on a free port; returns ``(server, origin)``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """``{"kb": origin, "embed": origin}``: kb itself and the page that embeds it."""
    import waitress

    root = tmp_path_factory.mktemp("browser")
    pages = root / "pages"
    pages.mkdir()
    embed_server, embed = serve_directory(pages)
    config = make_site(root / "site", cors_origins=(embed,))
    kb_server = waitress.create_server(create_app(config), host="127.0.0.1", port=0, threads=4, ident="kb-test")
    thread = threading.Thread(target=kb_server.run, daemon=True)
    thread.start()
    kb = f"http://127.0.0.1:{kb_server.effective_port}"
    doc = "<!doctype html>\n<html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width'>"
    (pages / "embed.html").write_text(
        f"{doc}<title>Embed</title></head><body>\n{SNIPPET.format(kb=kb)}</body></html>\n"
    )
    (pages / "clinic.html").write_text(
        f"{doc}<title>Bright Clinic</title><style>body{{font:17px/1.5 Georgia,serif;max-width:40rem;"
        "margin:1.5rem auto;padding:0 1rem;color:#222}h1{margin:0 0 .2rem}p{margin:.2rem 0 1rem;color:#555}</style>"
        f"</head><body><h1>Bright Clinic</h1><p>Patient information: search our articles and FAQs.</p>\n"
        f"{SNIPPET.format(kb=kb)}<p style='height:28rem'></p></body></html>\n"
    )
    yield {"kb": kb, "embed": embed}
    kb_server.close()
    embed_server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 720})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == [], errors  # no uncaught JavaScript error on any page


def open_widget(page, servers, name="embed.html"):
    page.goto(f"{servers['embed']}/{name}")
    box = page.locator("input[role=combobox]")
    expect(box).to_be_visible()
    return box


def type_query(page, box, text, delay=None):
    """Type ``text`` (key by key with ``delay`` ms) and wait until its answer is shown."""
    if delay is None:
        box.fill(text)
    else:
        box.press_sequentially(text, delay=delay)
    expect(box).to_have_value(text)
    expect(page.locator(f"#{box.get_attribute('aria-controls')}")).to_have_attribute("aria-busy", "false")


def live(page):
    return page.locator("[aria-live=polite]")


def options(page):
    return page.locator("[role=listbox] [role=option]")


# -- the widget, cross-origin --------------------------------------------------


def test_snippet_becomes_an_accessible_combobox(page, servers):
    assert servers["embed"] != servers["kb"]
    box = open_widget(page, servers)
    assert box.get_attribute("aria-expanded") == "false"
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    assert listbox.get_attribute("role") == "listbox"
    assert box.get_attribute("aria-autocomplete") == "list"
    assert page.locator(f"label[for='{box.get_attribute('id')}']").count() == 1
    assert live(page).count() == 1
    box.focus()  # a visible focus style
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    assert page.locator(f"link[href='{servers['kb']}/widget.css']").count() == 1


def test_mid_word_prefix_suggests_and_keyboard_opens_the_faq_anchor(page, servers):
    box = open_widget(page, servers)
    type_query(page, box, "endometr", delay=40)
    expect(options(page).first).to_be_visible()
    assert box.get_attribute("aria-expanded") == "true"
    texts = options(page).all_inner_texts()
    assert any("Endometriosis" in t for t in texts), texts
    assert options(page).locator("mark").first.inner_text().lower().startswith("endometr")
    assert box.get_attribute("aria-activedescendant") is None
    ids = [o.get_attribute("id") for o in options(page).all()]
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == ids[0]
    assert options(page).first.get_attribute("aria-selected") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == ids[1]
    box.press("ArrowUp")
    assert box.get_attribute("aria-activedescendant") == ids[0]
    # Walk down to the FAQ entry, then Enter opens kb's article page at its anchor.
    target = f"{servers['kb']}/articles/endometriosis#can-endometriosis-cause-a-miscarriage"
    hrefs = [o.locator("a").get_attribute("href") for o in options(page).all()]
    assert target in hrefs, hrefs
    box.press("ArrowUp")  # wraps to the last option
    assert box.get_attribute("aria-activedescendant") == ids[-1]
    box.press("ArrowDown")  # and back to the first
    for _ in range(hrefs.index(target)):
        box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == ids[hrefs.index(target)]
    box.press("Enter")
    page.wait_for_url(target)
    heading = page.locator("#can-endometriosis-cause-a-miscarriage")
    expect(heading).to_have_text("Can endometriosis cause a miscarriage?")
    assert page.evaluate("document.querySelector(':target').id") == "can-endometriosis-cause-a-miscarriage"


def test_results_have_highlighted_snippets_and_the_live_region_counts(page, servers):
    box = open_widget(page, servers)
    type_query(page, box, "painful")
    expect(live(page)).to_have_text(re.compile(r"^\d+ results?\b"))
    total = int(live(page).inner_text().split()[0])
    assert total >= 2
    snippets = page.locator(".kb-snippet")
    assert snippets.count() >= 2
    assert snippets.locator("mark").count() >= 2
    assert page.locator("[role=option] a[href$='/articles/ivf#is-egg-retrieval-painful']").count() == 1
    # Escape closes the list, a second Escape clears the box.
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    expect(page.locator(".kb-panel")).to_be_hidden()
    assert box.input_value() == "painful"
    box.press("Escape")
    assert box.input_value() == ""


def test_no_results_is_announced_and_shown(page, servers):
    box = open_widget(page, servers)
    type_query(page, box, "zzzyqx")
    expect(live(page)).to_have_text(re.compile(r"^No results for “zzzyqx”"))
    expect(page.locator(".kb-empty")).to_have_text("No results for “zzzyqx”.")
    assert options(page).count() == 0
    assert box.get_attribute("aria-expanded") == "false"  # no listbox to show


def test_requests_are_debounced_and_only_the_last_answer_shows(page, servers):
    searches = []
    page.on("request", lambda r: searches.append(r.url) if "/search?" in r.url else None)
    box = open_widget(page, servers)
    type_query(page, box, "egg retrieval", delay=15)
    expect(live(page)).to_have_text(re.compile(r"\d+ results?"))
    assert 1 <= len(searches) < len("egg retrieval") // 2, searches
    assert "q=egg+retrieval" in searches[-1]
    assert (
        "retrieval" in options(page).first.inner_text().lower()
        or "retrieval" in page.locator(".kb-panel").inner_text().lower()
    )


def test_did_you_mean_is_clickable(page, servers):
    box = open_widget(page, servers)
    type_query(page, box, "endometriossis")
    button = page.locator(".kb-dym button")
    expect(button).to_be_visible()
    suggestion = button.inner_text()
    button.click()
    expect(box).to_have_value(suggestion)
    expect(page.locator("[role=listbox]")).to_have_attribute("aria-busy", "false")
    expect(live(page)).to_have_text(re.compile(r"\d+ results?"))


def test_readable_at_320_pixels(browser, servers):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    box = open_widget(page, servers, "clinic.html")
    type_query(page, box, "painful")
    expect(options(page).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    panel = page.locator(".kb-panel").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 320
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.kb-snippet')).fontSize)") >= 13
    context.close()


def test_screenshot_of_the_widget_with_results(page, servers):
    page.set_viewport_size({"width": 760, "height": 620})
    box = open_widget(page, servers, "clinic.html")
    type_query(page, box, "endometriosis symptoms", delay=20)
    expect(live(page)).to_have_text(re.compile(r"\d+ results?"))
    expect(page.locator(".kb-answer")).to_contain_text("What are the symptoms of endometriosis?")
    box.press("ArrowDown")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "widget.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if not DOCS_SCREENSHOT.exists() or UPDATE_DOCS:
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, DOCS_SCREENSHOT)


# -- kb's own pages --------------------------------------------------------------


def test_search_page_works_with_javascript_off(browser, servers):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{servers['kb']}/")
    page.fill("input[name=q]", "folate")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(f"{servers['kb']}/?q=folate")
    assert page.locator(".kb-search").count() == 0  # the widget did not run
    results = page.locator("ol.results > li")
    expect(results).to_have_count(10)
    expect(page.locator("h1")).to_have_text(re.compile(r"^\d+ results for “folate”$"))
    page.click("a[rel=next]")
    page.wait_for_url(f"{servers['kb']}/?q=folate&page=2")
    expect(page.locator("ol.results")).to_have_attribute("start", "11")
    page.click("a[rel=prev]")
    page.wait_for_url(f"{servers['kb']}/?q=folate")
    results.first.locator("h2 a").click()
    page.wait_for_url(re.compile(r"/articles/folate-\d\d$"))
    expect(page.locator("h1")).to_have_text(re.compile("^Folate note"))
    context.close()


def test_the_search_page_is_enhanced_by_the_widget(page, servers):
    page.goto(f"{servers['kb']}/")
    box = page.locator("input[name=q][role=combobox]")
    expect(box).to_be_visible()
    type_query(page, box, "painful")
    expect(options(page).first).to_be_visible()
    box.press("Enter")  # no active option: the form is submitted as without JavaScript
    page.wait_for_url(f"{servers['kb']}/?q=painful")
    expect(page.locator("ol.results > li").first).to_be_visible()


# -- hostile article text never runs -------------------------------------------------


def test_the_xss_probe_works(page):
    page.set_content(XSS)
    page.wait_for_function("window.__xss === 1")


def test_article_markup_never_runs_in_the_widget_or_on_kbs_pages(page, servers):
    box = open_widget(page, servers)
    type_query(page, box, "iron tablets")
    option = page.locator("[role=option]", has_text=XSS).first
    expect(option).to_be_visible()  # shown as text ...
    assert page.locator(".kb-panel img, .kb-panel script").count() == 0  # ... never as markup
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    href = option.locator("a").get_attribute("href")
    assert href.startswith(f"{servers['kb']}/articles/iron")
    option.click()
    page.wait_for_url(href)
    expect(page.locator("main")).to_contain_text(XSS)
    assert page.locator("main img, main script").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    page.goto(f"{servers['kb']}/?q=iron")
    expect(page.locator("ol.results")).to_contain_text(XSS)
    assert page.locator("main img").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None


def test_the_widget_drops_hostile_urls_from_any_kb(page, servers):
    """An answer carrying script or other-host URLs (a kb built before the check, or
    a proxy in between): the widget shows only the results with safe URLs."""
    from .test_urls import HOSTILE, is_dangerous

    safe = ["/articles/ivf", "https://example.org/a"]
    urls = HOSTILE + safe

    def hit(n, url):
        return {
            "id": f"h{n}",
            "kind": "article",
            "slug": f"h{n}",
            "title": f"Hit {n}",
            "title_html": f"Hit {n}",
            "article_title": "",
            "url": url,
            "snippet": "",
            "score": 1.0,
        }

    search = {
        "query": "hit",
        "total": len(urls),
        "took_ms": 1,
        "limit": 6,
        "offset": 0,
        "generation": "g",
        "confidence": "high",
        "did_you_mean": None,
        "unmatched": [],
        "answer": {
            "id": "a",
            "slug": "a",
            "question": "Q",
            "question_html": "Q",
            "answer_html": "A",
            "url": "javascript:alert(1)",
            "article_title": "A",
        },
        "results": [hit(n, u) for n, u in enumerate(urls)],
    }
    suggest = {
        "query": "hit",
        "took_ms": 1,
        "suggestions": [
            {"text": f"S {n}", "html": f"S {n}", "kind": "article", "slug": "s", "url": u}
            for n, u in enumerate(HOSTILE)
        ],
    }
    cors = {"Access-Control-Allow-Origin": "*", "Content-Type": "application/json"}
    page.route("**/search?*", lambda route: route.fulfill(status=200, headers=cors, body=json.dumps(search)))
    page.route("**/suggest?*", lambda route: route.fulfill(status=200, headers=cors, body=json.dumps(suggest)))
    box = open_widget(page, servers)
    type_query(page, box, "hit")
    hrefs = [o.locator("a").get_attribute("href") for o in options(page).all()]
    assert f"{servers['kb']}/articles/ivf" in hrefs and "https://example.org/a" in hrefs, hrefs
    assert not [h for h in hrefs if is_dangerous(h) or not h.startswith(("http://127.0.0.1", "https://example.org"))]


@pytest.fixture(scope="module")
def js_safe_url(browser):
    """``check(urls)`` -> the widget's own ``safeUrl`` of each, run in Chromium."""
    source = (REPO / "kb" / "static" / "widget.js").read_text("utf-8")
    function = re.search(r"^  function safeUrl\(raw\) \{.*?^  \}$", source, re.M | re.S).group(0)
    context = browser.new_context()
    page = context.new_page()
    yield lambda urls: page.evaluate(f"(urls) => {{ {function}; return urls.map(safeUrl); }}", urls)
    context.close()


_PIECES = ["javascript:", "JaVaScript:", "data:", "vbscript:", "http:", "HTTPS:", "https://", "mailto:", "//", "/"]
_PIECES += ["\\", " ", "\t", "\n", "\x00", "\x01", "\x7f", "\x85", "\u00a0", "x", "evil.example", "#a", "?q=1", ":"]


@given(
    st.lists(
        st.lists(st.sampled_from(_PIECES) | st.characters(exclude_characters="&"), max_size=6).map("".join),
        min_size=50,
        max_size=50,
    )
)
@settings(max_examples=30, deadline=None)
def test_the_widget_and_the_server_apply_one_url_rule(js_safe_url, urls):
    """widget.js safeUrl and kb.urls.safe_url (http/https) agree on every URL a JSON answer can hold.

    (Without ``&``: the server also decodes HTML entities, which JSON values never need.)
    """
    from kb.urls import PAGE_SCHEMES, safe_url

    assert js_safe_url(urls) == [safe_url(u, PAGE_SCHEMES) and u.strip(" ") for u in urls]


@pytest.mark.parametrize("where", ["clinic.html", "kb's own search page"])
def test_dropdown_is_the_full_width_of_the_box_container_at_360_pixels(browser, servers, where):
    context = browser.new_context(viewport={"width": 360, "height": 700})
    page = context.new_page()
    if where == "clinic.html":
        box = open_widget(page, servers, "clinic.html")
    else:  # the widget enhances the page's own <form>: an input beside a button
        page.goto(f"{servers['kb']}/")
        box = page.locator("input[role=combobox]")
    type_query(page, box, "painful")
    expect(options(page).first).to_be_visible()
    panel = page.locator(".kb-panel").bounding_box()
    container = page.evaluate(
        """(() => {
          const root = document.querySelector('.kb-root'), s = getComputedStyle(root), r = root.getBoundingClientRect();
          return {x: r.x + parseFloat(s.paddingLeft), width: r.width - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)};
        })()"""
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / ("widget-360-clinic.png" if where == "clinic.html" else "widget-360-kb-page.png"))
    )
    assert abs(panel["x"] - container["x"]) <= 1
    assert abs(panel["width"] - container["width"]) <= 1
    assert panel["width"] > box.bounding_box()["width"] or where == "clinic.html"
    context.close()
