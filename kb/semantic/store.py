"""Document vectors of one index generation, and the cache that fills them.

A generation's vectors are two files beside its Whoosh segments:

- ``vectors.npy``: ``float16[n, dim]``, one row per document, opened memory-mapped
  (every worker process shares the same pages);
- ``vectors.json``: the model id, the dimension, the text choice, and per row the
  document id and the sha256 of the text that was embedded.

:func:`embed_cached` is the cache: a text whose sha256 is already in the
previous generation's vectors, embedded by the same model, is copied, not
embedded again; so an incremental build embeds only what changed, and a full
rebuild of unchanged text embeds nothing.  A different model id re-embeds
everything and says so.
"""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .texts import content_key

MATRIX = "vectors.npy"
META = "vectors.json"
FILES = {MATRIX, META}


class VectorStore:
    """One generation's document vectors (read-only, memory-mapped)."""

    def __init__(self, matrix, meta):
        self.matrix = matrix
        self.model_id = meta["model_id"]
        self.dim = int(meta["dim"])
        self.text = meta.get("text", "")
        self.ids = list(meta["ids"])
        self.keys = list(meta["keys"])
        self._row = {doc_id: i for i, doc_id in enumerate(self.ids)}

    @classmethod
    def open(cls, gen_dir):
        """The vectors of generation ``gen_dir``, or None if it has none."""
        gen_dir = Path(gen_dir)
        try:
            meta = json.loads((gen_dir / META).read_text("utf-8"))
            matrix = np.load(gen_dir / MATRIX, mmap_mode="r")
        except FileNotFoundError:
            return None
        if matrix.shape != (len(meta["ids"]), int(meta["dim"])):
            raise ValueError(f"{gen_dir / MATRIX}: shape {matrix.shape} does not match {META}")
        return cls(matrix, meta)

    def __len__(self):
        return len(self.ids)

    def row(self, doc_id):
        """The row of a document id, or None."""
        return self._row.get(doc_id)

    def vectors(self, doc_ids):
        """``float32[len(doc_ids), dim]``; a document without a vector gets a zero row."""
        out = np.zeros((len(doc_ids), self.dim), dtype=np.float32)
        rows = [(i, r) for i, d in enumerate(doc_ids) if (r := self._row.get(d)) is not None]
        if rows:
            at, src = zip(*rows)
            out[list(at)] = self.matrix[list(src)]
        return out

    def by_key(self):
        """``{text sha256: row}`` (the cache's view)."""
        return {k: i for i, k in enumerate(self.keys)}


def write_vectors(gen_dir, model_id, ids, keys, matrix, text=""):
    """Write a generation's vectors (fp16) atomically: the matrix first, its description last."""
    gen_dir = Path(gen_dir)
    matrix = np.asarray(matrix, dtype=np.float16)
    if matrix.ndim != 2 or matrix.shape[0] != len(ids) or len(ids) != len(keys):
        raise ValueError(f"{len(ids)} ids and {len(keys)} keys for a matrix of shape {matrix.shape}")
    tmp = gen_dir / f".{MATRIX}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        np.save(f, matrix)
    os.replace(tmp, gen_dir / MATRIX)
    meta = {"model_id": model_id, "dim": int(matrix.shape[1]), "text": text, "ids": list(ids), "keys": list(keys)}
    tmp = gen_dir / f".{META}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(meta, separators=(",", ":")), "utf-8")
    os.replace(tmp, gen_dir / META)


@dataclass
class EmbedReport:
    """What :func:`embed_cached` did."""

    documents: int = 0
    embedded: int = 0
    reused: int = 0
    model_id: str = ""
    previous_model: str = ""
    seconds: float = 0.0

    @property
    def model_changed(self):
        return bool(self.previous_model) and self.previous_model != self.model_id

    def summary(self):
        """One line for ``kb index``."""
        line = (
            f"vectors: {self.documents} documents, {self.embedded} embedded, {self.reused} reused "
            f"({self.model_id}; {self.seconds:.1f} s)"
        )
        if self.model_changed:
            line += f"; the embedding model changed from {self.previous_model}: every document was re-embedded"
        return line


def embed_cached(embedder, texts, previous=None, progress=None, batch=64):
    """Vectors for ``texts``, reusing ``previous`` rows of identical text and model.

    :param embedder: an :class:`~kb.semantic.Embedder`.
    :param texts: the texts, one per document (in row order).
    :param previous: the previous generation's :class:`VectorStore`, or None.
    :param progress: called as ``progress(done, total, eta_seconds)`` after each batch embedded.
    :returns: ``(float16[n, dim] matrix, keys, EmbedReport)``.
    """
    started = time.perf_counter()
    texts = list(texts)
    keys = [content_key(t) for t in texts]
    report = EmbedReport(documents=len(texts), model_id=embedder.model_id)
    matrix = np.zeros((len(texts), embedder.dim), dtype=np.float16)
    known = {}
    if previous is not None:
        report.previous_model = previous.model_id
        if previous.model_id == embedder.model_id and previous.dim == embedder.dim:
            known = previous.by_key()
    todo = {}  # key -> rows needing it (identical texts are embedded once)
    for i, key in enumerate(keys):
        if key in known:
            matrix[i] = previous.matrix[known[key]]
            report.reused += 1
        else:
            todo.setdefault(key, []).append(i)
    # Similar lengths side by side: a batch is padded to its longest text.
    pending = sorted(todo.items(), key=lambda item: len(texts[item[1][0]]))
    embed_started = time.perf_counter()
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        vectors = embedder.embed([texts[rows[0]] for _, rows in chunk])
        for (_, rows), v in zip(chunk, vectors):
            matrix[rows] = v
            report.embedded += len(rows)
        if progress:
            done = start + len(chunk)
            rate = done / max(time.perf_counter() - embed_started, 1e-9)
            progress(done, len(pending), (len(pending) - done) / rate)
    report.seconds = time.perf_counter() - started
    return matrix, keys, report
