"""The curation notice card in real headless Chromium: the widget (cross-origin) and the search page.

The Done-when of issue 13: a curation rule pins the urgent-care fixture first
for ``heavy bleding`` (a typo) and the widget shows its notice card.  Debian's
``/usr/bin/chromium`` through Playwright's ``executable_path``, as in test_browser.py.
"""

import threading

import pytest

from kb.config import Config
from kb.indexer import build
from kb.web import create_app

from . import test_browser
from .test_browser import live, open_widget, options, serve_directory, sync_playwright, type_query
from .test_curation import OLD, RULES, SPOTTING, URGENT

if sync_playwright is not None:
    from playwright.sync_api import expect

pytestmark = test_browser.pytestmark
browser = test_browser.browser  # the same fixtures: one Chromium, a fresh context per test
page = test_browser.page

NOTICE = "If you are bleeding heavily or in severe pain, call 999 or go to the emergency department."


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    import waitress

    root = tmp_path_factory.mktemp("curation-browser")
    arts = root / "articles"
    arts.mkdir()
    for name, text in (("urgent-care", URGENT), ("spotting", SPOTTING), ("old-leaflet", OLD)):
        (arts / f"{name}.md").write_text(text, encoding="utf-8")
    (arts / "curation.yaml").write_text(RULES, encoding="utf-8")
    assert build(arts, root / "index").ok
    pages = root / "pages"
    pages.mkdir()
    embed_server, embed = serve_directory(pages)
    config = Config(articles_dir=arts, index_dir=root / "index", cors_origins=(embed,))
    kb_server = waitress.create_server(create_app(config), host="127.0.0.1", port=0, threads=4, ident="kb-test")
    thread = threading.Thread(target=kb_server.run, daemon=True)
    thread.start()
    kb = f"http://127.0.0.1:{kb_server.effective_port}"
    (pages / "embed.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Embed</title></head><body>\n"
        f'<script src="{kb}/widget.js" defer></script>\n<div data-kb-search></div>\n</body></html>\n'
    )
    yield {"kb": kb, "embed": embed}
    kb_server.close()
    embed_server.shutdown()
    thread.join(timeout=5)


def test_widget_shows_the_notice_card_and_the_pinned_page_first(page, servers):
    box = open_widget(page, servers)
    type_query(page, box, "heavy bleding")
    card = page.locator(".kb-notice")
    expect(card).to_be_visible()
    assert NOTICE in card.inner_text()
    assert card.get_attribute("role") is None  # not role=alert: a card, announced politely
    assert page.locator("[role=alert]").count() == 0
    assert page.locator("[role=listbox] .kb-notice").count() == 0  # not an option of the listbox
    link = card.locator("a")
    assert link.get_attribute("href") == f"{servers['kb']}/articles/urgent-care"
    assert NOTICE in live(page).inner_text()  # the polite live region leads with it
    # The first result option is the pinned urgent-care page (suggestions come before results).
    titles = options(page).all_inner_texts()
    first_result = next(t for t in titles if "Urgent Care" in t or "Spotting" in t)
    assert "Urgent Care" in first_result, titles
    assert not any("Old Bleeding Leaflet" in t for t in titles), titles  # hidden
    # A query no rule matches: no card.
    type_query(page, box, "spotting")
    expect(page.locator(".kb-notice")).to_have_count(0)


def test_search_page_shows_the_notice_as_a_named_region(page, servers):
    page.goto(f"{servers['kb']}/?q=heavy+bleding")
    region = page.get_by_role("region", name="Important")
    expect(region).to_be_visible()
    assert NOTICE in region.inner_text()
    assert page.locator("[role=alert]").count() == 0
    assert page.locator("ol.results li h2").first.inner_text() == "Urgent Care"
