"""Semantic search parts: sentence embedders, a generation's vectors, blends.

kb runs without this extra: nothing outside ``kb.semantic`` imports it, and
importing it needs only numpy.  onnxruntime and tokenizers
(``pip install 'kb[semantic]'``) are imported when a real model is loaded.
"""

import importlib.util

from .embedders import Embedder, FakeEmbedder, SemanticUnavailable, load_embedder, locate_model
from .store import EmbedReport, VectorStore, embed_cached, write_vectors
from .texts import TEXT_CHOICES, document_text

__all__ = [
    "TEXT_CHOICES",
    "EmbedReport",
    "Embedder",
    "FakeEmbedder",
    "SemanticUnavailable",
    "VectorStore",
    "available",
    "document_text",
    "embed_cached",
    "load_embedder",
    "locate_model",
    "write_vectors",
]


def available():
    """Whether the semantic extra's libraries are installed (onnxruntime, tokenizers)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))
