"""Curation (articles/curation.yaml): validation with path:line, pin, hide, notice, dates, typo match, explain."""

import datetime
import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import generations
from kb.curation import parse_curation
from kb.indexer import build
from kb.search.curate import place
from kb.search.engine import Engine

URGENT = """\
---
title: Urgent Care
slug: urgent-care
summary: When to get help at once.
---

# Urgent Care

Call us or go to the emergency department for heavy bleeding or severe pain.

## When to call

Heavy bleeding, soaking a pad an hour, or fainting.
"""

SPOTTING = """\
---
title: Spotting in Pregnancy
slug: spotting
---

# Spotting in Pregnancy

Light bleeding or spotting in early pregnancy is common. Heavy bleeding in pregnancy needs a check.
Bleeding bleeding bleeding: heavy bleeding is described here at length, heavy heavy bleeding.

## Heavy bleeding

Heavy bleeding in pregnancy: bleeding heavy, bleeding heavy.
"""

OLD = """\
---
title: Old Bleeding Leaflet
slug: old-leaflet
---

# Old Bleeding Leaflet

Heavy bleeding heavy bleeding heavy bleeding, an old leaflet about heavy bleeding.

## Frequently Asked Questions

### Is heavy bleeding normal?

Heavy bleeding is not normal; heavy bleeding needs a check.
"""

RULES = """\
# Curation for the tests
- name: heavy bleeding
  phrase: heavy bleeding
  pin: [urgent-care]
  hide: [old-leaflet]
  notice:
    text: If you are bleeding heavily or in severe pain, call 999 or go to the emergency department.
    link: /articles/urgent-care
- name: pain words
  words: pain severe
  pin:
    - id: urgent-care#when-to-call
      position: 2
"""

TODAY = datetime.date(2026, 6, 15)


def site(tmp_path, rules=RULES, articles=(URGENT, SPOTTING, OLD)):
    arts = tmp_path / "articles"
    arts.mkdir(exist_ok=True)
    for text in articles:
        slug = text.split("slug: ", 1)[1].split("\n", 1)[0]
        (arts / f"{slug}.md").write_text(text, encoding="utf-8")
    (arts / "curation.yaml").write_text(rules, encoding="utf-8")
    report = build(arts, tmp_path / "index")
    return arts, report


@pytest.fixture
def engine(tmp_path):
    arts, report = site(tmp_path)
    assert report.ok, [str(p) for p in report.problems]
    e = Engine(tmp_path / "index", reload_seconds=0, today=lambda: TODAY)
    yield e
    e.close()


def ids(results):
    return [h.id for h in results.hits]


# -- what the rules do ---------------------------------------------------------------


def test_pin_puts_the_urgent_care_page_first(tmp_path, engine):
    assert ids(engine.search("heavy bleeding"))[0] == "urgent-care"
    # Without the file, the spotting page outranks it: the pin is what moves it.
    (tmp_path / "articles" / "curation.yaml").unlink()
    build(tmp_path / "articles", tmp_path / "index")
    plain = Engine(tmp_path / "index", reload_seconds=0, today=lambda: TODAY)
    try:
        assert ids(plain.search("heavy bleeding"))[0] != "urgent-care"
        assert plain.search("heavy bleeding").notice is None
    finally:
        plain.close()


def test_a_typo_matches_the_rule_through_the_planner(engine):
    results = engine.search("heavy bleding")
    assert ids(results)[0] == "urgent-care"
    assert results.notice.rule == "heavy bleeding"


def test_phrase_needs_the_words_together_in_order(engine):
    assert engine.search("bleeding heavy").notice is None
    assert engine.search("heavy bleeding in pregnancy").notice is not None  # more words around it are fine


def test_words_match_anywhere_and_pin_to_a_given_position(engine):
    results = engine.search("severe stomach pain")
    assert results.notice is None
    assert ids(results)[1] == "urgent-care#when-to-call"
    # One word of the two: the rule does not apply.
    assert all("curation" not in h.explain["rules"] for h in engine.search("pain", explain=True).hits)


def test_hidden_documents_never_appear(engine):
    for q in ("heavy bleeding", "heavy bleeding leaflet", "is heavy bleeding normal?"):
        for group in (None, "article"):
            results = engine.search(q, group=group, limit=50)
            seen = ids(results) + [c["id"] for h in results.hits for c in h.children]
            assert not [i for i in seen if i.startswith("old-leaflet")], (q, group, seen)
            assert results.answer is None or not results.answer.id.startswith("old-leaflet")
    # Without the rule's query the leaflet is found, and its FAQ is the answer card.
    assert "old-leaflet" in ids(engine.search("leaflet"))


def test_hidden_documents_are_not_suggested(tmp_path, engine):
    assert "old-leaflet" not in {s["slug"] for s in engine.suggest("heavy bleeding no")}  # "Is heavy bleeding normal?"
    (tmp_path / "articles" / "curation.yaml").write_text("- phrase: spotting\n  notice: x\n", encoding="utf-8")
    build(tmp_path / "articles", tmp_path / "index")
    engine.wait_for_generation(generations.current_name(tmp_path / "index"))
    assert "old-leaflet" in {s["slug"] for s in engine.suggest("heavy bleeding no")}  # without the rule it is


def test_a_pin_the_query_misses_does_not_lower_confidence(tmp_path):
    # "spotting" matches the spotting page strongly; the urgent-care page, pinned first, does not match it.
    _, report = site(tmp_path, "- phrase: spotting\n  pin: [urgent-care]\n")
    e = Engine(tmp_path / "index", reload_seconds=0, today=lambda: TODAY)
    try:
        results = e.search("spotting")
        assert ids(results)[:2] == ["urgent-care", "spotting"]
        assert results.confidence == "high"
    finally:
        e.close()


def test_the_cli_prints_the_notice(tmp_path, capsys):
    from kb.cli import main

    arts, _ = site(tmp_path)
    assert main(["search", "--index", str(tmp_path / "index"), "heavy bleding"]) == 0
    assert "Important: If you are bleeding heavily" in capsys.readouterr().out


def test_notice_in_the_json_body(engine):
    from kb.presentation import search_body

    body = search_body(engine.search("heavy bleeding"))
    assert body["notice"] == {
        "text": "If you are bleeding heavily or in severe pain, call 999 or go to the emergency department.",
        "link": "/articles/urgent-care",
        "rule": "heavy bleeding",
    }
    assert search_body(engine.search("spotting"))["notice"] is None


def test_explain_names_the_rule(engine):
    results = engine.search("heavy bleeding", explain=True)
    top = results.hits[0].explain["rules"]
    assert list(top)[0] == "curation"
    assert top["curation"] == {"rules": ["heavy bleeding"], "pinned": 1, "pinned_by": "heavy bleeding"}
    assert results.hits[1].explain["rules"]["curation"]["pinned"] is None
    assert "curation" not in engine.search("spotting", explain=True).hits[0].explain["rules"]


@pytest.mark.parametrize(
    ("window", "day", "applies"),
    [
        ("from: 2026-06-16", TODAY, False),  # before from
        ("until: 2026-06-14", TODAY, False),  # after until
        ("from: 2026-06-15\n  until: 2026-06-15", TODAY, True),  # both ends inclusive
        ("from: 2026-01-01\n  until: 2026-12-31", TODAY, True),
    ],
)
def test_dates(tmp_path, window, day, applies):
    rules = f"- phrase: heavy bleeding\n  pin: [urgent-care]\n  notice: Call 999.\n  {window}\n"
    _, report = site(tmp_path, rules)
    assert report.ok
    e = Engine(tmp_path / "index", reload_seconds=0, today=lambda: day)
    try:
        results = e.search("heavy bleeding")
        assert (results.notice is not None) == applies
        assert (ids(results)[0] == "urgent-care") == applies
    finally:
        e.close()


def test_the_clock_is_read_per_search_not_cached(tmp_path):
    _, report = site(tmp_path, "- phrase: heavy bleeding\n  notice: Call 999.\n  until: 2026-06-15\n")
    day = [TODAY]
    e = Engine(tmp_path / "index", reload_seconds=0, today=lambda: day[0])
    try:
        assert e.search("heavy bleeding").notice is not None
        day[0] = TODAY + datetime.timedelta(days=1)
        assert e.search("heavy bleeding").notice is None
    finally:
        e.close()


# -- validation ----------------------------------------------------------------------

BAD = """\
- name: fine
  phrase: heavy bleeding
  notice: Call 999.
- phrase: chest pain
  pin: [urgent-care]
  frm: 2026-01-01
- words: a b
- phrase: x
  words: y
  hide: [a]
- phrase: cramps
  notice: See us.
  from: 2026-13-01
- phrase: pain
  pin:
    - urgent-care
    - id: spotting
      position: 1
- phrase: fever
  hide: ["not a slug"]
- phrase: labour
  notice:
    text: Come in.
    link: javascript:alert(1)
- phrase: cramps
  notice: ok
  from: 2026-05-01
  until: 2026-04-01
"""


def test_validation_reports_each_bad_rule_with_its_line():
    rules, problems = parse_curation(BAD, "articles/curation.yaml")
    assert [r["name"] for r in rules] == ["fine"]
    messages = [str(p) for p in problems]
    assert messages[0].startswith("articles/curation.yaml:6: unknown key 'frm'")
    assert messages[1] == "articles/curation.yaml:7: a rule needs 'pin', 'hide' or 'notice' (it would do nothing)"
    assert messages[2] == "articles/curation.yaml:8: a rule needs exactly one of 'phrase' or 'words'"
    assert messages[3].startswith("articles/curation.yaml:13: 'from' must be a date")
    assert messages[4] == "articles/curation.yaml:17: two documents pinned to position 1"
    assert messages[5].startswith("articles/curation.yaml:20: 'not a slug' is not a document id")
    assert messages[6].startswith("articles/curation.yaml:24: a notice link must be")
    assert messages[7].startswith("articles/curation.yaml:28: 'until' (2026-04-01) is before 'from'")
    assert len(messages) == 8


def test_not_yaml_and_not_a_list():
    _, problems = parse_curation("- phrase: [unclosed\n", "c.yaml")
    assert str(problems[0]).startswith("c.yaml:2: not valid YAML") or str(problems[0]).startswith("c.yaml:1:")
    _, problems = parse_curation("\n\nphrase: x\n", "c.yaml")
    assert str(problems[0]) == "c.yaml:3: the file must be a list of rules ('- phrase: ...')"
    assert parse_curation("# nothing yet\n", "c.yaml") == ([], [])


def test_a_bad_rule_fails_the_build_but_the_others_apply(tmp_path):
    rules = RULES + "- phrase: cramps\n  pin: urgent-care\n  until: soon\n"
    _, report = site(tmp_path, rules)
    assert [str(p) for p in report.problems] == [
        f"{tmp_path / 'articles' / 'curation.yaml'}:16: 'until' must be a date like 2026-01-31, not 'soon'"
    ]
    e = Engine(tmp_path / "index", reload_seconds=0, today=lambda: TODAY)
    try:
        assert ids(e.search("heavy bleeding"))[0] == "urgent-care"
    finally:
        e.close()


def test_an_id_no_article_has_is_reported_with_the_rules_line(tmp_path):
    rules = "- phrase: heavy bleeding\n  notice: Call 999.\n  pin: [urgnt-care]\n  hide: [spotting#nope]\n"
    arts, report = site(tmp_path, rules)
    assert [str(p) for p in report.problems] == [
        f"{arts / 'curation.yaml'}:1: pin: no article has the slug of 'urgnt-care' (the rule's other parts still apply)"
    ]
    e = Engine(tmp_path / "index", reload_seconds=0, today=lambda: TODAY)
    try:
        assert e.search("heavy bleeding").notice is not None  # the rule still applies
    finally:
        e.close()


def test_the_cli_prints_path_line_and_exits_1(tmp_path, capsys):
    from kb.cli import main

    arts, _ = site(tmp_path, "- phrase: x\n")
    status = main(["index", "--articles", str(arts), "--index", str(tmp_path / "index"), "--quiet"])
    out = capsys.readouterr()
    assert status == 1
    assert f"{arts / 'curation.yaml'}:1: a rule needs 'pin', 'hide' or 'notice'" in out.out + out.err


# -- incremental and full builds agree -------------------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.sampled_from(["rules", "no-rules", "bad-rule", "touch-article", "drop-article"]), min_size=1, max_size=4
    )
)
def test_incremental_and_full_builds_store_the_same_rules(tmp_path_factory, edits):
    root = tmp_path_factory.mktemp("agree")
    arts, _ = site(root)
    for edit in edits:
        if edit == "rules":
            (arts / "curation.yaml").write_text(RULES, encoding="utf-8")
        elif edit == "no-rules":
            (arts / "curation.yaml").unlink(missing_ok=True)
        elif edit == "bad-rule":
            (arts / "curation.yaml").write_text(RULES + "- phrase: x\n", encoding="utf-8")
        elif edit == "touch-article":
            (arts / "spotting.md").write_text(SPOTTING + "\nMore text.\n", encoding="utf-8")
        else:
            (arts / "old-leaflet.md").unlink(missing_ok=True)
        build(arts, root / "index")  # incremental
        build(arts, root / "full", full=True)
        inc, full = (
            json.loads((g / generations.current_name(g) / generations.CURATION).read_text())
            for g in (root / "index", root / "full")
        )
        assert inc == full
    shutil.rmtree(root)


# -- placing pins ------------------------------------------------------------------


def test_place_moves_each_pin_to_its_position():
    assert place([7, 1, 2, 3], {7: (3, "r")}) == [1, 2, 7, 3]
    assert place([7, 8, 1], {7: (1, "r"), 8: (9, "r")}) == [7, 1, 8]  # past the end: last
    assert place([1, 2], {}) == [1, 2]


def test_readme_documents_the_file():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "curation.yaml" in readme and "notice" in readme


def test_bundled_curation_file_is_valid():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "articles" / "curation.yaml"
    rules, problems = parse_curation(path.read_text(encoding="utf-8"), path)
    assert problems == []


def test_the_json_response_with_a_notice_matches_the_openapi_document(tmp_path):
    from falcon import testing

    from kb.config import Config
    from kb.web import create_app

    from .test_openapi import check_response

    arts, report = site(tmp_path)
    client = testing.TestClient(create_app(Config(articles_dir=arts, index_dir=tmp_path / "index")))
    r = client.simulate_get("/search", params={"q": "heavy bleding", "explain": "true"})
    assert r.status_code == 200
    assert r.json["notice"]["rule"] == "heavy bleeding"
    assert r.json["results"][0]["id"] == "urgent-care"
    check_response("/search", r)
    html = client.simulate_get("/", params={"q": "heavy bleding"}, headers={"Accept": "text/html"}).text
    assert 'class="notice"' in html and "call 999" in html


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("curation-any")
    _, report = site(root)
    assert report.ok
    e = Engine(root / "index", reload_seconds=0, today=lambda: TODAY)
    yield e
    e.close()


WORDS = st.lists(st.sampled_from(["heavy", "bleeding", "leaflet", "normal", "is", "pain", "old"]), max_size=3)


@settings(max_examples=80, deadline=None)
@given(
    before=WORDS,
    phrase=st.sampled_from(["heavy bleeding", "heavy bleding", "Heavy  BLEEDING", "heavy bleedin"]),
    after=WORDS,
    group=st.sampled_from([None, "article"]),
    kind=st.sampled_from([None, "article", "section", "faq"]),
    space=st.booleans(),
)
def test_any_query_holding_the_phrase_shows_the_notice_and_never_a_hidden_document(
    shared_engine, before, phrase, after, group, kind, space
):
    q = " ".join([*before, phrase, *after]) + (" " if space else "")
    results = shared_engine.search(q, group=group, kind=kind, limit=50)
    assert results.notice is not None and results.notice.rule == "heavy bleeding", q
    seen = ids(results) + [c["id"] for h in results.hits for c in h.children]
    assert not [i for i in seen if i.startswith("old-leaflet")], (q, seen)
    assert results.answer is None or not results.answer.id.startswith("old-leaflet")
    assert not [s for s in shared_engine.suggest(q) if s["slug"] == "old-leaflet"]
    if kind in (None, "article"):
        assert ids(results)[0] == "urgent-care", (q, ids(results))
