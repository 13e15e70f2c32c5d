"""kb.store.reader reads Whoosh's private posting blocks: checked against Whoosh's public API."""

import numpy as np
import pytest
import whoosh
from whoosh import index as whoosh_index

from kb import generations
from kb.indexer import build
from kb.store.reader import WHOOSH_VERSION, IndexReader, check_version, read_postings

from .conftest import write_article


def test_the_pinned_whoosh_is_installed():
    assert tuple(whoosh.__version__[:3]) == WHOOSH_VERSION
    check_version()


@pytest.fixture
def index(tmp_path):
    articles = tmp_path / "articles"
    for i in range(3):
        body = " ".join(["ovary"] * (i + 1) + ["scan", f"word{i}"] * 60)  # several posting blocks
        write_article(articles, f"a{i}.md", f"---\ntitle: Ovary scan {i}\n---\n\n{body}\n")
    build(articles, tmp_path / "index")
    (articles / "a1.md").write_text("---\ntitle: Changed\n---\n\nNothing about scans.\n")  # a deleted document
    build(articles, tmp_path / "index")
    return generations.current_path(tmp_path / "index")


def test_postings_agree_with_whoosh_public_matchers(index):
    ix = whoosh_index.open_dir(index)
    seen_deleted = False
    with ix.reader() as reader:
        for field in ("title", "body", "slug", "kind"):
            for term in reader.lexicon(field):
                ids, tf = read_postings(reader, field, term)
                m = reader.postings(field, term)
                expected = []
                while m.is_active():
                    expected.append((m.id(), m.weight()))
                    m.next()
                live = [(d, f) for d, f in zip(ids.tolist(), tf.tolist()) if not reader.is_deleted(d)]
                assert live == expected, (field, term)  # deleted documents are kb's to mask
                seen_deleted |= any(reader.is_deleted(d) for d in ids.tolist())
    ix.close()
    assert seen_deleted


def test_index_reader_lengths_live_documents_and_stored_fields(index):
    reader = IndexReader(index)
    try:
        n = reader.doc_count_all()
        live = reader.live_doc_ids()
        assert len(live) < n  # the changed article's old document is deleted, not yet merged away
        lengths = reader.field_lengths("title", n)
        assert lengths.dtype == np.float32 and len(lengths) == n
        assert {reader.stored_fields(d)["title"] for d in live.tolist()} == {"Ovary scan 0", "Changed", "Ovary scan 2"}
        assert reader.postings("body", "nothing-like-it")[0].size == 0
        assert "ovari" in reader.lexicon("body")
    finally:
        reader.close()


def test_the_fake_posting_source_reads_like_the_real_index(tmp_path):
    """tests/fake_postings.py stands in for IndexReader in the ranking tests: both agree on a real index."""
    from kb.search.profile import RankingProfile
    from kb.search.snapshot import Snapshot

    from .fake_postings import TEXT_FIELDS, FakeReader

    articles = tmp_path / "articles"
    write_article(
        articles,
        "ivf.md",
        "---\ntitle: IVF treatment\ntags: [fertility]\nsummary: Eggs and embryos.\n---\n\nIVF joins eggs and sperm.\n\n"
        "## Frequently Asked Questions\n\n### Is egg retrieval painful?\n\nIt is done under sedation.\n",
    )
    write_article(articles, "iron.md", "---\ntitle: Iron\n---\n\nIron in pregnancy; eggs are a source.\n")
    build(articles, tmp_path / "index")
    gen_path = generations.current_path(tmp_path / "index")
    real = IndexReader(gen_path)
    try:
        docs = [real.stored_fields(d) for d in range(real.doc_count_all())]
        fake = FakeReader(docs)
        field_b = RankingProfile().field_b
        a, b = Snapshot(real, field_b), Snapshot(fake, field_b)
        for attr in ("kind", "parent", "slug_of", "title_len", "live"):
            assert getattr(a, attr).tolist() == getattr(b, attr).tolist(), attr
        # An article's stored body is its whole text, its indexed body its lead only
        # (the fake indexes what it is given): body is compared on entries.
        entries = np.flatnonzero(a.kind > 0)
        for f in TEXT_FIELDS:
            if f != "body":
                assert np.allclose(a.norm[f], b.norm[f]), f
                assert real.lexicon(f) == fake.lexicon(f), f
            for term in real.lexicon(f):
                (ids, tf), (fids, ftf) = real.postings(f, term), fake.postings(f, term)
                if f == "body":
                    keep, fkeep = np.isin(ids, entries), np.isin(fids, entries)
                    ids, tf, fids, ftf = ids[keep], tf[keep], fids[fkeep], ftf[fkeep]
                assert (ids.tolist(), tf.tolist()) == (fids.tolist(), ftf.tolist()), (f, term)
    finally:
        real.close()
