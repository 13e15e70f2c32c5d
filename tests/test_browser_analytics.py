"""Search analytics end to end in headless Chromium: keystrokes count once, clicks are recorded,
and the SQLite file holds no IP address or user agent afterwards.

kb runs for real (waitress on 127.0.0.1) in this process, so the test writes the
recorder's tallies itself (:func:`kb.analytics.flush_all`) instead of waiting for
the background writer.  Same requirements as ``tests/test_browser.py``.
"""

import json
import re
import sqlite3
import threading
import time
from urllib.request import urlopen

import pytest

from kb import analytics
from kb.web import create_app

from . import test_browser
from .kb_site import make_site
from .test_browser import SNIPPET, serve_directory, type_query

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped by the marks
    expect = None

pytestmark = test_browser.pytestmark
browser = test_browser.browser  # the same fixtures: one Chromium, a fresh context per test
page = test_browser.page


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    import waitress

    root = tmp_path_factory.mktemp("browser-analytics")
    pages = root / "pages"
    pages.mkdir()
    embed_server, embed = serve_directory(pages)
    config = make_site(root / "site", cors_origins=(embed,), data_dir=root / "data")
    kb_server = waitress.create_server(create_app(config), host="127.0.0.1", port=0, threads=4, ident="kb-test")
    thread = threading.Thread(target=kb_server.run, daemon=True)
    thread.start()
    kb = f"http://127.0.0.1:{kb_server.effective_port}"
    (pages / "embed.html").write_text(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Embed</title></head><body>\n"
        f"{SNIPPET.format(kb=kb)}</body></html>\n"
    )
    yield {"kb": kb, "embed": embed, "data": root / "data"}
    kb_server.close()
    embed_server.shutdown()
    thread.join(timeout=5)


def rows(data_dir, sql, until=None, timeout=20.0):
    """The rows of ``sql`` once ``until(rows)`` holds (beacons arrive asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        analytics.flush_all()
        found = []
        path = data_dir / analytics.DB_NAME
        if path.exists():
            with sqlite3.connect(path) as conn:
                found = conn.execute(sql).fetchall()
        if until is None or until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def assert_nothing_about_the_visitor(page, servers):
    user_agent = page.evaluate("navigator.userAgent")
    assert user_agent
    stored = b"".join(p.read_bytes() for p in servers["data"].iterdir())  # database, WAL, shm
    assert stored
    for secret in (user_agent, "HeadlessChrome", "Mozilla/", "127.0.0.1", servers["embed"]):
        assert secret.encode() not in stored, secret


def test_a_click_in_the_widget_is_recorded_and_keystrokes_count_once(page, servers):
    live_requests = []
    page.on("request", lambda r: live_requests.append(r.url) if "live=1" in r.url else None)
    page.goto(f"{servers['embed']}/embed.html")
    box = page.locator("input[role=combobox]")
    type_query(page, box, "egg retrieval", delay=160)  # slower than the debounce: a search per pause
    assert len(live_requests) >= 2, live_requests  # as-you-type searches did happen ...
    # A result (results have snippets; suggestions do not), clicked with the mouse.
    result = page.locator("[role=option]:not(.kb-answer):not(.kb-more)").filter(has=page.locator(".kb-snippet"))
    expect(result.first).to_be_visible()
    href = result.first.locator("a").get_attribute("href")
    answer = json.loads(urlopen(f"{servers['kb']}/search?q=egg+retrieval&limit=6&live=1").read())
    ranks = {servers["kb"] + h["url"]: (h["id"], n) for n, h in enumerate(answer["results"], 1)}
    result_id, position = ranks[href]
    result.first.click()
    page.wait_for_url(href)

    clicks = rows(servers["data"], "SELECT query, result_id, position, clicks FROM clicks", until=bool)
    assert clicks == [("egg retrieval", result_id, position, 1)]
    searches = rows(servers["data"], "SELECT query, searches FROM searches WHERE query LIKE 'e%'")
    assert searches == [("egg retrieval", 1)]  # ... and counted once, as the settled query
    assert_nothing_about_the_visitor(page, servers)


def test_a_click_on_the_search_page_is_recorded(page, servers):
    page.goto(f"{servers['kb']}/?q=folate")
    first = page.locator("ol.results > li h2 a").first
    expect(first).to_have_attribute("data-kb-position", "1")
    result_id = first.get_attribute("data-kb-id")
    first.click()
    page.wait_for_url(re.compile(rf"/articles/{result_id}$"))
    clicks = rows(servers["data"], "SELECT result_id, position, clicks FROM clicks WHERE query = 'folate'", until=bool)
    assert clicks == [(result_id, 1, 1)]
    assert rows(servers["data"], "SELECT searches FROM searches WHERE query = 'folate'") == [(1,)]
    assert_nothing_about_the_visitor(page, servers)


def test_a_query_left_alone_settles_and_a_submitted_one_counts_once(page, servers):
    page.goto(f"{servers['embed']}/embed.html")
    box = page.locator("input[role=combobox]")
    type_query(page, box, "endometriosis", delay=60)
    # No click, no Enter: after a pause the widget reports the query it shows.
    found = rows(servers["data"], "SELECT searches FROM searches WHERE query = 'endometriosis'", until=bool)
    assert found == [(1,)]

    page.goto(f"{servers['kb']}/")
    box = page.locator("input[name=q][role=combobox]")
    type_query(page, box, "iron tablets")
    box.press("Enter")  # the search page counts it; the widget must not count it again
    page.wait_for_url(re.compile(r"/\?q=iron\+tablets$"))
    first = page.locator("ol.results > li h2 a").first
    result_id = first.get_attribute("data-kb-id")
    first.click()
    page.wait_for_url(re.compile(rf"/articles/{result_id}$"))
    rows(servers["data"], "SELECT * FROM clicks WHERE query = 'iron tablets'", until=bool)
    assert rows(servers["data"], "SELECT searches FROM searches WHERE query = 'iron tablets'") == [(1,)]
