"""Vectors in a generation: written by the indexer when given an embedder, each text embedded once."""

import numpy as np

from kb import generations
from kb.indexer import build
from kb.semantic import FakeEmbedder, VectorStore
from kb.semantic.store import FILES
from kb.semantic.texts import DOCUMENT_TEXT

from .conftest import ALL_COUNTS, REAL_ARTICLE, write_article

ALL_DOCS = sum(ALL_COUNTS.values())


def current_vectors(index_dir):
    return VectorStore.open(generations.current_path(index_dir))


def test_a_build_with_an_embedder_writes_one_vector_per_document(articles_dir, index_dir):
    e = FakeEmbedder()
    report = build(articles_dir, index_dir, embedder=e)
    store = current_vectors(index_dir)
    assert len(store) == ALL_DOCS == len(set(store.ids)) == e.calls
    assert store.model_id == e.model_id and store.text == DOCUMENT_TEXT
    assert (
        "recurrent-miscarriages" in store.ids and sum(i.startswith("recurrent-miscarriages#") for i in store.ids) == 4
    )
    assert report.vectors.embedded == ALL_DOCS and "vectors: " in report.summary()


def test_a_build_without_an_embedder_writes_no_vectors_and_keeps_none(articles_dir, index_dir):
    build(articles_dir, index_dir, embedder=FakeEmbedder())
    report = build(articles_dir, index_dir)  # lexical only: old vectors are not carried over
    gen = generations.current_path(index_dir)
    assert report.vectors is None and not any((gen / name).exists() for name in FILES)


def test_an_incremental_build_embeds_only_the_edited_article(articles_dir, index_dir):
    e = FakeEmbedder()
    build(articles_dir, index_dir, embedder=e)
    before = current_vectors(index_dir)
    calls = e.calls
    path = articles_dir / REAL_ARTICLE.name
    path.write_text(path.read_text("utf-8").replace("Recurrent miscarriages refer", "Recurrent losses refer"), "utf-8")
    report = build(articles_dir, index_dir, embedder=e)
    after = current_vectors(index_dir)
    assert report.mode == "incremental"
    assert 1 <= e.calls - calls <= 5  # the clinic article's changed texts, nothing else
    assert report.vectors.reused == ALL_DOCS - (e.calls - calls) and len(after) == ALL_DOCS
    others = [d for d in before.ids if not d.startswith("recurrent-miscarriages")]
    assert np.array_equal(before.vectors(others), after.vectors(others))


def test_a_full_rebuild_of_unchanged_text_embeds_nothing(articles_dir, index_dir):
    e = FakeEmbedder()
    build(articles_dir, index_dir, embedder=e)
    calls = e.calls
    report = build(articles_dir, index_dir, full=True, embedder=e)
    assert e.calls == calls and report.vectors.reused == ALL_DOCS and report.vectors.embedded == 0


def test_a_model_change_re_embeds_and_the_summary_says_so(articles_dir, index_dir):
    build(articles_dir, index_dir, embedder=FakeEmbedder(model_id="model-a"))
    write_article(articles_dir, "new.md", "---\ntitle: Folic acid\n---\n\nFolic acid before pregnancy.\n")
    b = FakeEmbedder(model_id="model-b")
    report = build(articles_dir, index_dir, embedder=b)  # incremental: unchanged articles read back
    assert report.mode == "incremental" and b.calls == ALL_DOCS + 1
    assert report.vectors.model_changed and "changed from model-a" in report.summary()
    assert current_vectors(index_dir).model_id == "model-b"


def test_incremental_and_full_builds_give_the_same_vectors(tmp_path, articles_dir):
    e = FakeEmbedder()
    build(articles_dir, tmp_path / "inc", embedder=e)
    path = articles_dir / REAL_ARTICLE.name
    path.write_text(path.read_text("utf-8") + "\nA new closing sentence.\n", "utf-8")
    (articles_dir / "endometriosis.md").unlink(missing_ok=True)
    build(articles_dir, tmp_path / "inc", embedder=e)
    build(articles_dir, tmp_path / "full", full=True, embedder=FakeEmbedder())
    inc, full = current_vectors(tmp_path / "inc"), current_vectors(tmp_path / "full")
    assert sorted(inc.ids) == sorted(full.ids)
    assert np.array_equal(inc.vectors(full.ids), full.vectors(full.ids))
