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
    "embedder_for",
    "loader_for",
    "document_text",
    "embed_cached",
    "load_embedder",
    "locate_model",
    "write_vectors",
]


def available():
    """Whether the semantic extra's libraries are installed (onnxruntime, tokenizers)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))


MODES = ("auto", "on", "off")


def embedder_for(config):
    """The embedder ``config`` asks for (``KB_SEMANTIC``), or None for lexical-only search.

    ``off``: None.  ``auto``: the model when the extra and a model are
    installed, else None.  ``on``: the model, or :class:`SemanticUnavailable`.

    :raises ValueError: ``KB_SEMANTIC`` is none of auto, on, off.
    :raises SemanticUnavailable: ``on`` and no usable model.
    """
    mode = (config.semantic or "auto").strip().lower()
    if mode not in MODES:
        raise ValueError(f"KB_SEMANTIC={config.semantic!r}: expected one of {', '.join(MODES)}")
    if mode == "off" or (mode == "auto" and not available()):
        return None
    try:
        return load_embedder(config.embedding_model)
    except SemanticUnavailable:
        if mode == "on":
            raise
        return None


def loader_for(config):
    """A function loading ``config``'s embedder (for the engine to call once, on first use), or None.

    None when ``KB_SEMANTIC`` is ``off``, or ``auto`` without the extra: the
    engine then runs lexical-only and never imports onnxruntime.

    :raises ValueError: ``KB_SEMANTIC`` is none of auto, on, off.
    """
    mode = (config.semantic or "auto").strip().lower()
    if mode not in MODES:
        raise ValueError(f"KB_SEMANTIC={config.semantic!r}: expected one of {', '.join(MODES)}")
    if mode == "off" or (mode == "auto" and not available()):
        return None
    return lambda: embedder_for(config)
