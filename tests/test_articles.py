"""kb.articles: front matter, sections, FAQ pairs, anchors, documents, problems, HTML."""

import html
import re
from pathlib import Path

import markdown
import pytest

from kb.articles import FAQ_HEADINGS, load_articles, parse_article, render_html
from kb.errors import ArticleProblem

from .conftest import CLINIC_QUESTIONS, FIXTURES, REAL_ARTICLE, write_article

PROBLEM_RE = re.compile(r"^(?P<path>.+):(?P<line>\d+): (?P<message>.+)$")

FULL = """\
---
title: Recurrent Miscarriages
slug: recurrent-miscarriages
summary: >-
  Two or more consecutive
  pregnancy losses.
tags: [miscarriage, fertility]
synonyms: [recurrent pregnancy loss, habitual abortion]
language: tr
url: /kb/recurrent-miscarriages
source: MedQuAD
---

# Recurrent Miscarriages

First lead paragraph.

Second lead paragraph.

## Causes

Genetic and **hormonal** causes.

## Diagnosis

Blood tests and [HSG](https://example.org/hsg).

## Frequently Asked Questions

### What is recurrent miscarriage?

Two or more losses.

### How is it treated?

It depends on the cause.
More text on a second line.

## After the FAQ

A section after the FAQ.
"""


def parse(text, name="article.md"):
    return parse_article(Path(name), text)


def toc_ids(body, extensions=("toc", "fenced_code")):
    """What Python-Markdown's toc extension says: (section anchors, FAQ anchors, names).

    ``fenced_code`` is on because plain Markdown has no ``` fences (it would
    read a ``#`` line inside one as a heading); it changes no other heading.
    """
    md = markdown.Markdown(extensions=list(extensions))
    md.convert(body)
    sections, faqs, names = [], [], {}

    def walk(tokens, in_faq=False):
        for t in tokens:
            name = html.unescape(t["name"])
            names[t["id"]] = name
            if t["level"] == 1:
                walk(t["children"])
            elif t["level"] == 2:
                if name.strip().lower() in FAQ_HEADINGS:
                    walk(t["children"], in_faq=True)
                else:
                    sections.append(t["id"])
            elif t["level"] == 3 and in_faq:
                faqs.append(t["id"])

    walk(md.toc_tokens)
    return sections, faqs, names


def problem_of(tmp_path, name, content):
    """The one problem ``load_articles`` reports for one file, and its path."""
    path = write_article(tmp_path, name, content)
    articles, problems = load_articles(tmp_path)
    assert articles == []
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0], path


# -- front matter ---------------------------------------------------------------


def test_front_matter_fields():
    a = parse(FULL)
    assert a.title == "Recurrent Miscarriages"
    assert a.slug == "recurrent-miscarriages"
    assert a.summary == "Two or more consecutive pregnancy losses."
    assert a.tags == ("miscarriage", "fertility")
    assert a.synonyms == ("recurrent pregnancy loss", "habitual abortion")
    assert a.language == "tr"
    assert a.url == "/kb/recurrent-miscarriages"
    assert a.meta["source"] == "MedQuAD"  # other keys are kept


def test_front_matter_defaults(tmp_path):
    path = write_article(tmp_path, "hsg-test.md", "---\ntitle: HSG Test\ntags: x-ray, tubes ,  dye\n---\nLead.\n")
    a = parse_article(path)
    assert a.slug == "hsg-test"  # the file stem
    assert a.url == "/articles/hsg-test"
    assert a.tags == ("x-ray", "tubes", "dye")  # "a, b" string form
    assert a.synonyms == ()
    assert a.summary == ""
    assert a.language == "en"
    assert a.lead == "Lead."


def test_title_from_first_h1_without_front_matter(tmp_path):
    path = write_article(tmp_path, "plain.md", "# Egg Freezing\n\nWhy and when.\n")
    a = parse_article(path)
    assert a.title == "Egg Freezing"
    assert a.slug == "plain"
    assert a.lead == "Why and when."


def test_bytes_with_bom_and_crlf():
    a = parse_article(Path("x.md"), "\ufeff---\r\ntitle: Crlf\r\n---\r\nLead.\r\n\r\n## Part\r\n\r\nText.\r\n".encode())
    assert a.title == "Crlf"
    assert [(s.heading, s.line) for s in a.sections] == [("Part", 6)]


# -- body: lead, sections, FAQ ----------------------------------------------------


def test_lead_text():
    a = parse(FULL)
    assert a.lead == "First lead paragraph.\n\nSecond lead paragraph."
    assert "Recurrent Miscarriages" not in a.lead  # the "# Title" line is not lead text


def test_sections_heading_anchor_line_markdown():
    a = parse(FULL)
    lines = FULL.split("\n")
    assert [s.heading for s in a.sections] == ["Causes", "Diagnosis", "After the FAQ"]
    assert [s.anchor for s in a.sections] == ["causes", "diagnosis", "after-the-faq"]
    for s in a.sections:
        assert lines[s.line - 1] == f"## {s.heading}"  # 1-based line in the file
    assert a.sections[0].markdown == "Genetic and **hormonal** causes."


def test_faq_pairs_in_order_with_positions_and_lines():
    a = parse(FULL)
    lines = FULL.split("\n")
    assert [f.question for f in a.faqs] == ["What is recurrent miscarriage?", "How is it treated?"]
    assert [f.anchor for f in a.faqs] == ["what-is-recurrent-miscarriage", "how-is-it-treated"]
    assert [f.position for f in a.faqs] == [1, 2]
    for f in a.faqs:
        assert lines[f.line - 1] == f"### {f.question}"
    assert a.faqs[0].answer == "Two or more losses."
    # an answer runs to the next ## heading and may span lines; the next section is not in it
    assert a.faqs[1].answer == "It depends on the cause.\nMore text on a second line."


@pytest.mark.parametrize("heading", ["Frequently Asked Questions", "FAQ", "FAQs", "frequently asked questions"])
def test_faq_heading_variants(heading):
    a = parse(f"---\ntitle: T\n---\nLead.\n\n## {heading}\n\n### Why?\n\nBecause.\n")
    assert [f.question for f in a.faqs] == ["Why?"]
    assert a.sections == ()


def test_level3_headings_outside_faq_are_not_questions():
    a = parse("---\ntitle: T\n---\n## Causes\n\n### Genetic\n\nGenes.\n")
    assert a.faqs == ()
    assert [s.heading for s in a.sections] == ["Causes"]
    assert "Genes." in a.sections[0].markdown


def test_clinic_article_parses_with_the_seed_questions():
    a = parse_article(REAL_ARTICLE)
    assert a.slug == "recurrent-miscarriages"
    assert a.title == "Recurrent Miscarriages"
    assert [f.question for f in a.faqs] == CLINIC_QUESTIONS
    assert [f.position for f in a.faqs] == [1, 2, 3, 4]
    assert a.faqs[0].anchor == "what-is-recurrent-miscarriage"
    assert all(f.answer for f in a.faqs)
    assert "miscarriage" in a.tags


# -- anchors: the same ids Python-Markdown's toc extension gives ------------------

ANCHOR_CASES = {
    "duplicates": """\
## Intro

a

## Intro

b

## Frequently Asked Questions

### Intro

c

### Intro

d
""",
    "inline markup": """\
## *Emphasis* and `code` & more

a

## See [our guide](https://example.org) __now__

b

## Frequently Asked Questions

### Is **IVF** safe & `painful`?

c

### What's "AMH" <5?

d
""",
    "fences": """\
## Setup

```
# not a heading
## Setup
### nor this
```

~~~python
## tilde fenced, not a heading
~~~

## Setup

x

## Frequently Asked Questions

### Why fences?

````
```
## still code
```
````

Because.
""",
    "unicode and closing hashes": """\
## Ünïcode café — naïve ##

a

## Causes ###

b

## Frequently Asked Questions

### Ça va?

c
""",
}


@pytest.mark.parametrize("body", list(ANCHOR_CASES.values()), ids=list(ANCHOR_CASES))
def test_anchors_equal_toc_extension_ids(body):
    a = parse("---\ntitle: T\n---\n" + body)
    sections, faqs, names = toc_ids(body)
    assert [s.anchor for s in a.sections] == sections
    assert [f.anchor for f in a.faqs] == faqs
    # the heading text is what toc sees too (markup removed, entities decoded)
    assert [s.heading for s in a.sections] == [names[i] for i in sections]
    assert [f.question for f in a.faqs] == [names[i] for i in faqs]


def test_hash_lines_in_fences_are_not_headings():
    a = parse("---\ntitle: T\n---\n" + ANCHOR_CASES["fences"])
    assert [s.heading for s in a.sections] == ["Setup", "Setup"]
    assert [s.anchor for s in a.sections] == ["setup", "setup_1"]  # fenced "## Setup" does not count
    assert [f.question for f in a.faqs] == ["Why fences?"]
    assert "Because." in a.faqs[0].answer


def test_anchor_of_heading_that_looks_like_a_list_item():
    """BUG: a heading starting "1. " with inline markup loses its number in the anchor.

    kb.articles.heading_text renders the heading text as a Markdown *block*, so
    "1. First *step*" becomes an ordered list and the anchor "first-step", while
    the toc extension (and render_html) give "1-first-step".
    """
    body = "## 1. First *step*\n\nx\n\n## Frequently Asked Questions\n\n### 2. Why *this*?\n\ny\n"
    a = parse("---\ntitle: T\n---\n" + body)
    sections, faqs, _ = toc_ids(body)
    assert sections == ["1-first-step"]
    assert [s.anchor for s in a.sections] == sections
    assert [f.anchor for f in a.faqs] == faqs


def test_heading_without_space_after_hashes():
    """BUG: "##Causes" is a heading to Python-Markdown (toc, render_html) but not to kb.

    kb.articles._HEADING_RE requires a space after the hashes, so here kb sees
    one "Causes" section (anchor "causes") and one FAQ "Why?" (anchor "why",
    answer "Again."), while the rendered page has causes/causes_1 and
    why/why_1: the deep links land on the wrong heading and the first
    question is missing from the FAQ.
    """
    body = "##Causes\n\nGenes.\n\n## Causes\n\nMore.\n\n## FAQ\n\n###Why?\n\nBecause.\n\n### Why?\n\nAgain.\n"
    a = parse("---\ntitle: T\n---\n" + body)
    sections, faqs, _ = toc_ids(body)
    assert (sections, faqs) == (["causes", "causes_1"], ["why", "why_1"])
    assert [s.anchor for s in a.sections] == sections
    assert [f.anchor for f in a.faqs] == faqs


# -- documents -------------------------------------------------------------------


def test_documents_ids_kinds_urls():
    a = parse(FULL)
    docs = list(a.documents())
    assert [(d.id, d.kind, d.url) for d in docs] == [
        ("recurrent-miscarriages", "article", "/kb/recurrent-miscarriages"),
        ("recurrent-miscarriages#causes", "section", "/kb/recurrent-miscarriages#causes"),
        ("recurrent-miscarriages#diagnosis", "section", "/kb/recurrent-miscarriages#diagnosis"),
        ("recurrent-miscarriages#after-the-faq", "section", "/kb/recurrent-miscarriages#after-the-faq"),
        (
            "recurrent-miscarriages#what-is-recurrent-miscarriage",
            "faq",
            "/kb/recurrent-miscarriages#what-is-recurrent-miscarriage",
        ),
        ("recurrent-miscarriages#how-is-it-treated", "faq", "/kb/recurrent-miscarriages#how-is-it-treated"),
    ]
    assert {d.slug for d in docs} == {"recurrent-miscarriages"}
    assert {d.article_title for d in docs} == {"Recurrent Miscarriages"}
    faq = docs[4]
    assert (faq.title, faq.body, faq.anchor, faq.position) == (
        "What is recurrent miscarriage?",
        "Two or more losses.",
        "what-is-recurrent-miscarriage",
        1,
    )


def test_document_text_is_plain_text():
    a = parse(FULL)
    docs = {d.id: d for d in a.documents()}
    assert docs["recurrent-miscarriages#causes"].body == "Genetic and hormonal causes."
    assert docs["recurrent-miscarriages#diagnosis"].body == "Blood tests and HSG."
    whole = docs["recurrent-miscarriages"]
    for text in [
        "First lead paragraph.",
        "Genetic and hormonal causes.",
        "What is recurrent miscarriage?",
        "It depends",
    ]:
        assert text in whole.body
    assert "recurrent pregnancy loss" in whole.keywords and "fertility" in whole.keywords
    assert whole.summary == "Two or more consecutive pregnancy losses."


def test_default_url_deep_links():
    a = parse_article(FIXTURES / "ivf.md")
    urls = {d.id: d.url for d in a.documents()}
    assert urls["ivf"] == "/articles/ivf"
    assert urls["ivf#how-it-works"] == "/articles/ivf#how-it-works"
    assert urls["ivf#is-egg-retrieval-painful"] == "/articles/ivf#is-egg-retrieval-painful"


# -- problems: path:line: message -------------------------------------------------

PROBLEMS = [
    # (case, file content, expected line, words in the message)
    ("invalid yaml", "---\ntitle: A\nsummary: fine\nbad: : here\ntags: [x]\n---\nBody.\n", 4, "YAML"),
    ("bad indentation", "---\ntitle: A\n  summary: indented\n---\nBody.\n", 3, "YAML"),
    ("never closed", "---\ntitle: A\nsummary: s\n\n# A\n\nBody.\n", 1, "never closed"),
    ("no title", "---\nsummary: no title here\n---\n\nJust text.\n", 1, "title"),
    ("empty title", "---\nsummary: s\ntitle: ''\n---\n\nText.\n", 3, "title"),
    ("bad slug", "---\ntitle: A\nsummary: s\nslug: Not A Slug\n---\nBody.\n", 4, "slug"),
    (
        "empty FAQ answer",
        "---\ntitle: A\n---\nLead.\n\n## FAQ\n\n### One?\n\nYes.\n\n### Two?\n\n### Three?\n\nNo.\n",
        12,
        "empty answer",
    ),
    (
        "empty last FAQ answer",
        "---\ntitle: A\n---\nLead.\n\n## FAQ\n\n### One?\n\nYes.\n\n### Two?\n\n",
        12,
        "empty answer",
    ),
    (
        "empty FAQ answer before a section",
        "---\ntitle: A\n---\n## FAQ\n\n### One?\n\n## Later\n\nText.\n",
        6,
        "empty answer",
    ),
    ("invalid utf-8", b"---\ntitle: A\n---\nLine four.\nLine five \xff\xfe here.\n", 5, "UTF-8"),
]


@pytest.mark.parametrize("content, line, words", [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_problem_is_reported_at_its_line(tmp_path, content, line, words):
    problem, path = problem_of(tmp_path, "broken.md", content)
    m = PROBLEM_RE.match(str(problem))
    assert m, str(problem)
    assert Path(m["path"]) == path
    assert int(m["line"]) == line == problem.line
    assert words.lower() in m["message"].lower()
    assert problem.message == m["message"]


def test_load_articles_reports_and_keeps_going(tmp_path):
    write_article(tmp_path, "a-good.md", "---\ntitle: Good\n---\nFine.\n")
    write_article(tmp_path, "b-bad.md", "---\ntitle: [unclosed\n---\n")
    write_article(tmp_path, "sub/c-good.md", "---\ntitle: Also Good\n---\nFine.\n")
    articles, problems = load_articles(tmp_path)
    assert [a.slug for a in articles] == ["a-good", "c-good"]
    assert [Path(p.path).name for p in problems] == ["b-bad.md"]


def test_duplicate_slug_is_a_problem_of_the_second_file(tmp_path):
    write_article(tmp_path, "a.md", "---\ntitle: First\nslug: same\n---\nOne.\n")
    second = write_article(tmp_path, "b.md", "---\ntitle: Second\nsummary: s\nslug: same\n---\nTwo.\n")
    articles, problems = load_articles(tmp_path)
    assert [(a.title, a.slug) for a in articles] == [("First", "same")]
    assert len(problems) == 1
    m = PROBLEM_RE.match(str(problems[0]))
    assert Path(m["path"]) == second
    assert int(m["line"]) == 4  # the slug line
    assert "duplicate slug" in m["message"] and "a.md" in m["message"]


def test_parse_article_raises_article_problem():
    with pytest.raises(ArticleProblem) as info:
        parse_article(Path("x.md"), "---\ntitle: A\n---\n## FAQ\n\n### Q?\n")
    assert info.value.line == 6
    assert str(info.value).startswith("x.md:6: ")


# -- rendered HTML -----------------------------------------------------------------


def heading_ids(rendered, levels="23"):
    return re.findall(rf'<h[{levels}] id="([^"]+)"', rendered)


def test_render_html_escapes_raw_html():
    a = parse_article(FIXTURES / "unsafe.md")
    rendered = render_html(a.body)
    assert not re.search(r"<\s*(script|img|b)\b", rendered, re.I)
    assert "&lt;script&gt;" in rendered
    assert "&lt;img" in rendered
    assert set(re.findall(r"<\s*/?\s*([a-zA-Z][\w-]*)", rendered)) <= {
        "p",
        "h1",
        "h2",
        "h3",
        "strong",
        "em",
        "code",
        "pre",
        "a",
        "ul",
        "ol",
        "li",
    }


@pytest.mark.parametrize(
    "path", [FIXTURES / "ivf.md", FIXTURES / "endometriosis.md", REAL_ARTICLE], ids=lambda p: p.name
)
def test_render_html_heading_ids_equal_document_anchors(path):
    a = parse_article(path)
    faq_heading_ids = {"frequently-asked-questions", "faq", "faqs"}
    ids = [i for i in heading_ids(render_html(a.body)) if i not in faq_heading_ids]
    anchors = [d.anchor for d in a.documents() if d.anchor]
    assert ids == anchors and anchors


def test_render_html_ids_equal_anchors_for_inline_markup():
    body = "\n".join(ANCHOR_CASES.values())  # one page: ids made unique across it
    a = parse("---\ntitle: T\n---\n" + body)
    ids = heading_ids(render_html(a.body))
    for anchor in [s.anchor for s in a.sections] + [f.anchor for f in a.faqs]:
        assert anchor in ids


def test_render_html_ids_equal_anchors_for_headings_with_raw_html():
    """BUG: a heading with raw HTML gets one anchor in search results, another on the page.

    tests/fixtures/articles/unsafe.md has "### Does <b>vitamin</b> D help?": its
    FAQ document's url ends "#does-vitamin-d-help", but render_html (which
    escapes raw HTML) gives the heading id "does-bvitaminb-d-help", so the deep
    link from a search result goes nowhere on the page kb renders.
    """
    a = parse_article(FIXTURES / "unsafe.md")
    ids = heading_ids(render_html(a.body))
    anchors = [d.anchor for d in a.documents() if d.anchor]
    assert anchors
    assert set(anchors) <= set(ids), (anchors, ids)
