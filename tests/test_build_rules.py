"""One rule for every build: an incremental build answers exactly as a full build does.

Each test here builds the same files twice, once incrementally on top of
earlier generations and once in full, and compares what searches return.
(tests/test_differential.py checks the same with random edit sequences.)
"""

import shutil

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
