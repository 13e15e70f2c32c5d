"""kb.indexer.build: reports, incremental builds, broken articles, locks, generations."""

import re

import pytest

from kb import generations
from kb.errors import IndexBusy, NotFound
from kb.indexer import build

from .conftest import ALL_COUNTS, generation_dirs, simple_article, write_article

SUMMARY_RE = re.compile(
    r"^(full|incremental) build: \d+ articles, \d+ sections, \d+ FAQ entries "
    r"\(\d+ added, \d+ changed, \d+ removed, \d+ unchanged\); \d+ problems; [\d.]+ s; generation gen-\S+$"
)


@pytest.fixture
def three(tmp_path):
    """Three tiny articles, each with one unusual word of its own."""
    articles = tmp_path / "articles"
    write_article(articles, "alpha.md", simple_article("Alpha", "The xylophone lesson.", extra="summary: s\n"))
    write_article(
        articles,
        "beta.md",
        "---\ntitle: Beta\n---\nLead about kayaks.\n\n## Frequently Asked Questions\n\n### Why kayaks?\n\nThey float.\n",
    )
    write_article(articles, "gamma.md", simple_article("Gamma", "A page about walruses.\n\n## Habitat\n\nIce floes."))
    return articles, tmp_path / "index"


def counts(report):
    return (report.articles, report.sections, report.faqs)


def changes(report):
    return (report.added, report.changed, report.removed, report.unchanged)


def test_full_build_report(articles_dir, index_dir):
    report = build(articles_dir, index_dir)
    assert report.ok and report.problems == []
    assert report.mode == "full"
    assert counts(report) == (ALL_COUNTS["article"], ALL_COUNTS["section"], ALL_COUNTS["faq"])
    assert changes(report) == (4, 0, 0, 0)
    assert report.generation == generations.current_name(index_dir)
    assert generation_dirs(index_dir) == [report.generation]
    assert SUMMARY_RE.match(report.summary()), report.summary()
    assert "9 FAQ entries (4 added, 0 changed, 0 removed, 0 unchanged); 0 problems" in report.summary()
    record = generations.read_record(index_dir / report.generation)
    assert record["counts"] == ALL_COUNTS


def test_second_build_with_nothing_changed(three, search_ids):
    articles, index = three
    first = build(articles, index)
    second = build(articles, index)
    assert second.mode == "incremental"
    assert changes(second) == (0, 0, 0, 3)
    assert counts(second) == counts(first) == (3, 1, 1)
    assert second.generation != first.generation
    assert generations.current_name(index) == second.generation
    assert search_ids(index, "xylophone") == ["alpha"]


def test_edit_one_article(three, search_ids):
    articles, index = three
    build(articles, index)
    write_article(articles, "alpha.md", simple_article("Alpha", "The marimba lesson.", extra="summary: s\n"))
    report = build(articles, index)
    assert report.mode == "incremental"
    assert changes(report) == (0, 1, 0, 2)
    assert search_ids(index, "marimba") == ["alpha"]
    assert "alpha" not in search_ids(index, "xylophone")
    assert search_ids(index, "walruses") == ["gamma"]  # the untouched ones are still there
    assert "beta#why-kayaks" in search_ids(index, "kayaks")


def test_add_one_article(three, search_ids):
    articles, index = three
    build(articles, index)
    write_article(articles, "delta.md", simple_article("Delta", "Notes on platypuses.\n\n## More\n\nMonotremes."))
    report = build(articles, index)
    assert changes(report) == (1, 0, 0, 3)
    assert counts(report) == (4, 2, 1)
    assert search_ids(index, "platypuses") == ["delta"]
    assert search_ids(index, "monotremes", kind="section") == ["delta#more"]


def test_delete_one_article(three, search_ids, engine_factory):
    articles, index = three
    build(articles, index)
    (articles / "gamma.md").unlink()
    report = build(articles, index)
    assert changes(report) == (0, 0, 1, 2)
    assert counts(report) == (2, 0, 1)
    assert search_ids(index, "walruses") == []
    assert search_ids(index, "floes") == []  # its section is gone too
    with pytest.raises(NotFound):
        engine_factory(index).article("gamma")


def test_delete_every_article(three, search_ids):
    articles, index = three
    build(articles, index)
    for path in articles.glob("*.md"):
        path.unlink()
    report = build(articles, index)
    assert report.ok
    assert changes(report) == (0, 0, 3, 0)
    assert counts(report) == (0, 0, 0)
    assert search_ids(index, "xylophone kayaks walruses") == []


def test_full_rebuild(three, search_ids):
    articles, index = three
    first = build(articles, index)
    write_article(articles, "alpha.md", simple_article("Alpha", "The marimba lesson."))
    report = build(articles, index, full=True)
    assert report.mode == "full"
    # Counted against the current generation, as an incremental build counts.
    assert changes(report) == (0, 1, 0, 2)
    assert counts(report) == counts(first)
    assert report.generation != first.generation
    assert search_ids(index, "marimba") == ["alpha"]
    assert search_ids(index, "xylophone") == []


def test_broken_article_is_skipped_and_reported(three, search_ids):
    articles, index = three
    bad = write_article(articles, "broken.md", "---\ntitle: Broken\nsummary: s\ntags: [a, : b\n---\nUnicorns.\n")
    report = build(articles, index)
    assert not report.ok
    assert [(p.path, p.line) for p in report.problems] == [(str(bad), 4)]
    assert str(report.problems[0]).startswith(f"{bad}:4: ")
    assert counts(report) == (3, 1, 1)
    assert "1 problems" in report.summary()
    assert search_ids(index, "unicorns") == []
    assert search_ids(index, "xylophone") == ["alpha"]
    assert generations.read_record(index / report.generation)["problems"] == [str(report.problems[0])]


def test_broken_article_is_reported_on_every_build_until_fixed(three, search_ids):
    articles, index = three
    bad = write_article(articles, "broken.md", "---\ntitle: Broken\n---\n## FAQ\n\n### Empty?\n")
    assert not build(articles, index).ok
    again = build(articles, index)
    assert [(p.path, p.line) for p in again.problems] == [(str(bad), 6)]
    write_article(articles, "broken.md", "---\ntitle: Broken\n---\n## FAQ\n\n### Empty?\n\nNo, unicorns.\n")
    fixed = build(articles, index)
    assert fixed.ok
    assert fixed.added == 1  # never indexed before
    assert search_ids(index, "unicorns", kind="faq") == ["broken#empty"]


def test_article_broken_after_indexing_keeps_previous_version(three, search_ids):
    articles, index = three
    build(articles, index)
    path = write_article(articles, "alpha.md", "---\ntitle: Alpha\nsummary: s\nbad: : :\n---\nThe marimba lesson.\n")
    report = build(articles, index)
    assert not report.ok
    assert [(p.path, p.line) for p in report.problems] == [(str(path), 4)]
    assert report.articles == 3  # alpha's last good version still counts
    assert search_ids(index, "xylophone") == ["alpha"]
    assert search_ids(index, "marimba") == []
    # fixed: the new version replaces the old one
    write_article(articles, "alpha.md", simple_article("Alpha", "The marimba lesson."))
    fixed = build(articles, index)
    assert fixed.ok and fixed.changed == 1
    assert search_ids(index, "marimba") == ["alpha"]
    assert search_ids(index, "xylophone") == []


def test_article_broken_after_indexing_stays_searchable_across_builds(three, search_ids):
    """BUG: the last good version of a broken article is dropped by the second build.

    README: "if an earlier version of the broken article was indexed, that
    version stays searchable until the file is fixed".  kb/indexer.py lines
    122-125 keep it only when the previous record has no "problem" for the file,
    so the build after the one that kept it deletes it.
    """
    articles, index = three
    build(articles, index)
    write_article(articles, "alpha.md", "---\ntitle: Alpha\nbad: : :\n---\nThe marimba lesson.\n")
    build(articles, index)
    assert search_ids(index, "xylophone") == ["alpha"]
    report = build(articles, index)  # nothing changed: the file is still broken
    assert not report.ok
    assert report.articles == 3
    assert search_ids(index, "xylophone") == ["alpha"]


def test_build_refused_while_write_lock_is_held(three):
    articles, index = three
    first = build(articles, index)
    write_article(articles, "alpha.md", simple_article("Alpha", "Changed."))
    with generations.write_lock(index):
        with pytest.raises(IndexBusy) as info:
            build(articles, index)
    assert "another" in str(info.value)
    assert generations.current_name(index) == first.generation
    assert generation_dirs(index) == [first.generation]
    # the lock is free again afterwards
    assert build(articles, index).changed == 1


def test_old_generations_are_removed(three):
    articles, index = three
    for n in range(4):
        write_article(articles, "alpha.md", simple_article("Alpha", f"Version {n}."))
        name = build(articles, index).generation
        assert generations.current_name(index) == name
        assert generation_dirs(index) == [name]


def test_generation_held_by_a_reader_stays_until_released(three):
    articles, index = three
    first = build(articles, index).generation
    lease = generations.ReaderLease(index / first)
    try:
        second = build(articles, index).generation
        assert sorted(generation_dirs(index)) == sorted([first, second])
        third = build(articles, index).generation
        assert sorted(generation_dirs(index)) == sorted([first, third])  # unread second is gone
    finally:
        lease.release()
    fourth = build(articles, index).generation
    assert generation_dirs(index) == [fourth]


def test_duplicate_slugs_across_files(three, search_ids):
    articles, index = three
    write_article(articles, "zeta.md", "---\ntitle: Zeta\nsummary: s\nslug: alpha\n---\nThe ocelot.\n")
    report = build(articles, index)
    assert not report.ok
    assert len(report.problems) == 1
    p = report.problems[0]
    assert p.path.endswith("zeta.md") and p.line == 4
    assert "duplicate slug" in p.message
    assert report.articles == 3
    assert search_ids(index, "xylophone") == ["alpha"]
    assert search_ids(index, "ocelot") == []


def test_duplicate_slug_added_later_leaves_the_indexed_article(three, search_ids):
    articles, index = three
    build(articles, index)
    write_article(articles, "zeta.md", "---\ntitle: Zeta\nslug: beta\n---\nThe ocelot.\n")
    report = build(articles, index)
    assert [p.path.endswith("zeta.md") for p in report.problems] == [True]
    assert "beta#why-kayaks" in search_ids(index, "kayaks")
    assert search_ids(index, "ocelot") == []
    assert report.articles == 3


def test_articles_in_subdirectories(tmp_path, search_ids):
    articles, index = tmp_path / "a", tmp_path / "i"
    write_article(articles, "deep/er/nested.md", simple_article("Nested", "Armadillos."))
    report = build(articles, index)
    assert report.ok and report.articles == 1
    assert search_ids(index, "armadillos") == ["nested"]


def test_vocabulary_counts_stay_exact_across_incremental_builds(tmp_path):
    """A word counts the articles that have it, however often one is edited."""
    articles, index = tmp_path / "a", tmp_path / "i"
    write_article(articles, "x.md", "---\ntitle: X\n---\nThe zebrafinch sings.\n")
    write_article(articles, "y.md", "---\ntitle: Y\n---\nA zebrafinch nests.\n")
    build(articles, index)
    for n in range(3):
        write_article(articles, "x.md", f"---\ntitle: X\n---\nThe zebrafinch sings, edit {n}.\n")
        build(articles, index)
    vocabulary = generations.read_json(generations.current_path(index) / "vocabulary.json", {})
    assert vocabulary["zebrafinch"] == 2
    assert vocabulary["sings"] == 1
    (articles / "x.md").unlink()
    build(articles, index)
    vocabulary = generations.read_json(generations.current_path(index) / "vocabulary.json", {})
    assert vocabulary["zebrafinch"] == 1
    assert "sings" not in vocabulary
