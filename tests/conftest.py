"""Shared fixtures: tiny articles written to tmp_path, tiny indexes built from them.

Nothing here reads outside the repository: the fixture articles are
``tests/fixtures/articles/*.md`` and the clinic's real article
``articles/recurrent-miscarriages.md``; every index is built in a tmp dir.
"""

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from kb import generations

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "articles"
REAL_ARTICLES = REPO / "articles"
REAL_ARTICLE = REAL_ARTICLES / "recurrent-miscarriages.md"

#: The seed's four FAQ questions of the clinic article, in order.
CLINIC_QUESTIONS = [
    "What is recurrent miscarriage?",
    "What are the causes of recurrent miscarriages?",
    "How are recurrent miscarriages diagnosed?",
    "What can be done to prevent recurrent miscarriages?",
]
CLINIC_SLUG = "recurrent-miscarriages"
#: Counts of the fixtures plus the clinic article (ivf: 2 sections, 2 FAQs;
#: endometriosis: 2 FAQs; unsafe: 1 FAQ; clinic article: 4 FAQs).
ALL_COUNTS = {"article": 4, "section": 2, "faq": 9}


def write_article(directory, name, text):
    """Write ``text`` (dedented, stripped of a leading newline) to ``directory/name``."""
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def simple_article(title, body, slug=None, extra=""):
    """Markdown for an article with front matter, a lead and nothing else."""
    front = f"title: {title}\n" + (f"slug: {slug}\n" if slug else "") + extra
    return f"---\n{front}---\n\n{body}\n"


def generation_dirs(index_dir):
    """Names of the generation directories present in ``index_dir``."""
    return sorted(p.name for p in Path(index_dir).glob(generations.PREFIX + "*") if p.is_dir())


def copy_all_articles(target):
    """Copy the fixture articles and the clinic article into ``target``."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for src in sorted(FIXTURES.glob("*.md")) + [REAL_ARTICLE]:
        shutil.copy(src, target / src.name)
    return target


@pytest.fixture(autouse=True)
def _no_kb_environment(monkeypatch):
    """KB_* variables of the machine running the tests must not leak in; KB_SEMANTIC=off."""
    for name in list(os.environ):
        if name.startswith("KB_"):
            monkeypatch.delenv(name)
    # Lexical unless a test turns the semantic stage on: the real model would load in every app.
    monkeypatch.setenv("KB_SEMANTIC", "off")


@pytest.fixture
def articles_dir(tmp_path):
    """A tmp articles dir with the fixtures and the clinic article."""
    return copy_all_articles(tmp_path / "articles")


@pytest.fixture
def index_dir(tmp_path):
    return tmp_path / "index"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``(articles_dir, index_dir, report)``: all articles, indexed once per module."""
    from kb.indexer import build

    root = tmp_path_factory.mktemp("built")
    articles = copy_all_articles(root / "articles")
    index = root / "index"
    report = build(articles, index)
    assert report.ok, [str(p) for p in report.problems]
    return articles, index, report


@pytest.fixture
def engine_factory():
    """``make(index_dir)`` -> an :class:`Engine` that re-reads CURRENT on every call."""
    from kb.search import Engine

    engines = []

    def make(index_dir, reload_seconds=0.0):
        engine = Engine(index_dir, reload_seconds=reload_seconds)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def search_ids(engine_factory):
    """``search_ids(index_dir, q, **kw)`` -> the hit ids, searched on a fresh engine."""

    def run(index_dir, q, **kw):
        kw.setdefault("limit", 50)
        engine = engine_factory(index_dir)
        try:
            return [h.id for h in engine.search(q, **kw).hits]
        finally:
            engine.close()

    return run
