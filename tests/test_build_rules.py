"""One rule for every build: an incremental build answers exactly as a full build does.

Each test here builds the same files twice, once incrementally on top of
earlier generations and once in full, and compares what searches return.
(tests/test_differential.py checks the same with random edit sequences.)
"""

import shutil

import pytest

from kb.indexer import build

from .conftest import FIXTURES, simple_article, write_article


def answers(engine_factory, index_dir, queries):
    """``{query: [(id, score), ...]}`` from a fresh engine on ``index_dir``."""
    engine = engine_factory(index_dir)
    return {q: [(h.id, h.score) for h in engine.search(q, limit=50).hits] for q in queries}


def full_twin(articles, tmp_path):
    """A full build of ``articles`` in an index of its own."""
    index = tmp_path / "full-twin"
    shutil.rmtree(index, ignore_errors=True)
    build(articles, index, full=True)
    return index


def test_edited_article_is_found_by_its_own_name(tmp_path, engine_factory):
    """Old versions outnumbering live ones once made the idf negative (issue 8)."""
    articles, index = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    for name in ("endometriosis.md", "ivf.md"):
        shutil.copy(FIXTURES / name, articles / name)
    build(articles, index)
    text = (articles / "endometriosis.md").read_text()
    for n in range(3):
        write_article(articles, "endometriosis.md", text.replace("pelvic pain", f"pelvic pain ({n})"))
        assert build(articles, index).mode == "incremental"
    queries = ["endometriosis", "pelvic pain", "symptoms of endometriosis", "ivf", "miscarriage"]
    got = answers(engine_factory, index, queries)
    assert got["endometriosis"] and got["endometriosis"][0][0] == "endometriosis"
    assert got == answers(engine_factory, full_twin(articles, tmp_path), queries)


def test_removed_and_restored_article_scores_as_in_a_full_build(tmp_path, engine_factory):
    articles, index = tmp_path / "articles", tmp_path / "index"
    write_article(articles, "a.md", simple_article("Walrus", "Walruses live on ice.\n\n## Food\n\nClams."))
    write_article(articles, "b.md", simple_article("Seal", "Seals eat fish, walruses eat clams."))
    build(articles, index)
    saved = (articles / "a.md").read_text()
    (articles / "a.md").unlink()
    build(articles, index)
    write_article(articles, "a.md", saved)
    build(articles, index)
    queries = ["walrus", "clams", "seal", "food"]
    got = answers(engine_factory, index, queries)
    assert [i for i, _ in got["walrus"]][:1] == ["a"]
    assert got == answers(engine_factory, full_twin(articles, tmp_path), queries)


def test_deleted_sections_do_not_count_for_their_article(tmp_path, engine_factory):
    """An edited article's old sections leave its body length and term counts."""
    articles, index = tmp_path / "articles", tmp_path / "index"
    long_section = "\n\n## Notes\n\n" + "otters " * 40
    write_article(articles, "a.md", simple_article("Kelp", "Kelp forests." + long_section))
    write_article(articles, "b.md", simple_article("Reef", "Kelp near reefs, otters too."))
    build(articles, index)
    write_article(articles, "a.md", simple_article("Kelp", "Kelp forests.\n\n## Notes\n\nShort now."))
    build(articles, index)
    queries = ["kelp", "otters", "reef"]
    assert answers(engine_factory, index, queries) == answers(engine_factory, full_twin(articles, tmp_path), queries)


MODES = pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])


def two_articles(tmp_path):
    articles, index = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    for name in ("endometriosis.md", "ivf.md"):
        shutil.copy(FIXTURES / name, articles / name)
    return articles, index


@MODES
def test_owner_keeps_its_slug_whatever_the_path_order(tmp_path, search_ids, full):
    articles, index = two_articles(tmp_path)
    build(articles, index)
    # "broken/" sorts before "endometriosis.md": path order must not matter.
    dup = write_article(articles, "broken/dup-slug.md", simple_article("Duplicate", "Ocelots.", slug="endometriosis"))
    report = build(articles, index, full=full)
    assert [str(p) for p in report.problems] == [
        f"{dup}:3: duplicate slug 'endometriosis': already used by {articles / 'endometriosis.md'}"
    ]
    assert search_ids(index, "endometriosis")[0] == "endometriosis"
    assert search_ids(index, "ocelots") == []
    report = build(articles, index, full=full)  # and on every later build
    assert len(report.problems) == 1 and search_ids(index, "ocelots") == []
    # The owner is deleted: the claimant is indexed on the next build.
    (articles / "endometriosis.md").unlink()
    report = build(articles, index, full=full)
    assert report.ok
    assert search_ids(index, "ocelots") == ["endometriosis"]


def test_first_path_wins_a_slug_claimed_by_two_new_files(tmp_path, search_ids):
    articles, index = tmp_path / "articles", tmp_path / "index"
    write_article(articles, "b.md", simple_article("Bee", "Bumblebees.", slug="same"))
    write_article(articles, "a.md", simple_article("Ant", "Anthills.", slug="same"))
    report = build(articles, index)
    assert [p.path for p in report.problems] == [str(articles / "b.md")]
    assert search_ids(index, "anthills") == ["same"]


def test_removed_duplicate_leaves_the_owner_searchable(tmp_path, search_ids):
    articles, index = two_articles(tmp_path)
    build(articles, index)
    write_article(articles, "broken/dup-slug.md", simple_article("Duplicate", "Ocelots.", slug="endometriosis"))
    build(articles, index)
    (articles / "broken/dup-slug.md").unlink()
    assert build(articles, index).ok
    assert search_ids(index, "endometriosis")[0] == "endometriosis"


@MODES
def test_broken_edit_keeps_the_last_good_version(tmp_path, search_ids, engine_factory, full):
    articles, index = two_articles(tmp_path)
    build(articles, index)
    good = (articles / "endometriosis.md").read_text()
    path = write_article(articles, "endometriosis.md", good.replace("tags: [pain, gynecology]", "tags: [pain, : x"))
    for _ in range(2):  # and on the build after, too
        report = build(articles, index, full=full)
        assert [p.path for p in report.problems] == [str(path)]
        assert report.kept == [str(path)]
        assert report.summary().endswith(f"; kept previous version of {path}")
        assert report.articles == 2
        assert search_ids(index, "endometriosis")[0] == "endometriosis"
    assert engine_factory(index).article("endometriosis")["title"] == "Endometriosis"
    # Fixed: the new version replaces the kept one.
    write_article(articles, "endometriosis.md", good.replace("pelvic pain", "pelvic cramps"))
    report = build(articles, index, full=full)
    assert report.ok and report.kept == [] and report.changed == 1
    assert search_ids(index, "cramps")[0] == "endometriosis"


def test_from_scratch_drops_what_is_broken_now(tmp_path, search_ids):
    articles, index = two_articles(tmp_path)
    build(articles, index)
    good = (articles / "endometriosis.md").read_text()
    path = write_article(articles, "endometriosis.md", good.replace("tags: [pain, gynecology]", "tags: [pain, : x"))
    assert build(articles, index).kept == [str(path)]
    report = build(articles, index, from_scratch=True)
    assert report.mode == "from-scratch" and report.kept == [] and report.articles == 1
    assert search_ids(index, "endometriosis") == []
    # No history any more: fixing it adds it back as new.
    write_article(articles, "endometriosis.md", good)
    assert build(articles, index).added == 1


@MODES
def test_claiming_another_slug_keeps_the_claimants_last_good_version(tmp_path, search_ids, full):
    articles, index = two_articles(tmp_path)
    build(articles, index)
    ivf = (articles / "ivf.md").read_text()
    write_article(articles, "ivf.md", ivf.replace("slug: ivf", "slug: endometriosis"))
    report = build(articles, index, full=full)
    assert len(report.problems) == 1 and "duplicate slug 'endometriosis'" in str(report.problems[0])
    assert report.kept == [str(articles / "ivf.md")]
    assert search_ids(index, "ivf")[0] == "ivf"
    assert search_ids(index, "endometriosis")[0] == "endometriosis"


def test_incremental_and_full_agree_after_slug_and_broken_sequences(tmp_path, engine_factory):
    articles, index = two_articles(tmp_path)
    twin = tmp_path / "twin"
    steps = [
        lambda: write_article(articles, "a/dup.md", simple_article("Dup", "Ocelots.", slug="endometriosis")),
        lambda: write_article(articles, "ivf.md", "---\ntitle: IVF\nbad: : :\n---\nx\n"),
        lambda: (articles / "endometriosis.md").unlink(),
        lambda: shutil.copy(FIXTURES / "ivf.md", articles / "ivf.md"),
    ]
    queries = ["endometriosis", "ocelots", "ivf", "egg retrieval", "miscarriage"]
    for step in [lambda: None, *steps]:
        step()
        a, b = build(articles, index), build(articles, twin, full=True)
        assert [str(p) for p in a.problems] == [str(p) for p in b.problems]
        assert answers(engine_factory, index, queries) == answers(engine_factory, twin, queries)
