"""A small knowledge base for the page, OpenAPI and browser tests.

The shared fixture articles, the pages fixtures (``tests/fixtures/pages``: an
article whose title and text hold ``<img src=x onerror=window.__xss=1>``), and
:data:`FOLATE_ARTICLES` generated articles that all mention "folate", so a
search for it fills three result pages.
"""

import shutil
from pathlib import Path

from kb.config import Config
from kb.indexer import build

TESTS = Path(__file__).resolve().parent
FIXTURE_DIRS = [TESTS / "fixtures" / "articles", TESTS / "fixtures" / "pages"]
FOLATE_ARTICLES = 23
XSS = "<img src=x onerror=window.__xss=1>"


def write_articles(target):
    """Copy the fixtures into ``target`` and add the generated folate articles."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for directory in FIXTURE_DIRS:
        for src in sorted(directory.glob("*.md")):
            shutil.copy(src, target / src.name)
    for n in range(1, FOLATE_ARTICLES + 1):
        (target / f"folate-{n:02d}.md").write_text(
            f"---\ntitle: Folate note {n}\nslug: folate-{n:02d}\n---\n\n"
            f"Folate note number {n}: folate before and during pregnancy.\n",
            encoding="utf-8",
        )
    return target


def make_site(root, **config):
    """Articles and a built index under ``root``; returns the :class:`Config`."""
    root = Path(root)
    articles = write_articles(root / "articles")
    report = build(articles, root / "index")
    assert report.ok, [str(p) for p in report.problems]
    return Config(articles_dir=articles, index_dir=root / "index", **config)
