"""The semantic ranking stage: rerank the lexical top ``k`` of a question by cosine similarity.

After the ranking rules have ordered the candidates, a question-like query
(:func:`kb.semantic.fusion.question_like`) has its lexical top
``profile.semantic_k`` reordered by a blend of the lexical score and the cosine
between the query's vector and each document's (the generation's
``vectors.npy``, memory-mapped).  Every other query, and every query when no
embedder or no vectors are there, keeps the lexical order untouched.

A document whose title the query names (the title-bonus rule: the exact title,
or a title contained whole in the query) keeps its lexical place: a semantic
near-miss never moves above it.  The embedder is loaded lazily, once per
process; a generation's vectors once per generation.
"""

import logging
import threading

import numpy as np

from ..semantic.fusion import linear_order, question_like, rrf_order
from ..semantic.store import VectorStore

log = logging.getLogger("kb.search")


class SemanticStage:
    """Reranks the lexical top ``k`` of question-like queries (see the module).

    :param embedder: an :class:`~kb.semantic.Embedder`, or a function of no
        arguments returning one (or None), called on first use.
    """

    def __init__(self, embedder):
        self._factory = embedder if callable(embedder) and not hasattr(embedder, "embed") else (lambda: embedder)
        self._embedder = None
        self._loaded = False
        self._lock = threading.Lock()

    def embedder(self):
        """The embedder (loaded on the first call), or None when it cannot be loaded."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    try:
                        self._embedder = self._factory()
                    except Exception as e:  # a missing or broken model: lexical search goes on
                        log.warning("semantic stage off: %s", e)
                        self._embedder = None
                    self._loaded = True
        return self._embedder

    def vectors(self, gen):
        """The generation's :class:`VectorStore` (opened once, memory-mapped), or None."""
        store = gen.__dict__.get("_semantic_vectors", False)
        if store is False:
            with self._lock:
                store = gen.__dict__.get("_semantic_vectors", False)
                if store is False:
                    path = getattr(gen, "path", None)
                    try:
                        store = VectorStore.open(path) if path is not None else None
                    except (OSError, ValueError) as e:
                        log.warning("generation %s: vectors not usable: %s", gen.name, e)
                        store = None
                    gen._semantic_vectors = store
        return store

    def usable(self, gen, profile):
        """``(embedder, vectors)`` when this generation can be searched semantically, else None."""
        embedder = self.embedder()
        if embedder is None:
            return None
        store = self.vectors(gen)
        if store is None or store.model_id != embedder.model_id or store.text != profile.semantic_text:
            return None
        return embedder, store

    def mode(self, gen, profile):
        """``{"mode": "hybrid", "model": id}`` or ``{"mode": "lexical"}`` for ``/health``."""
        ready = self.usable(gen, profile)
        return {"mode": "hybrid", "model": ready[0].model_id} if ready else {"mode": "lexical"}

    def gate(self, text, profile):
        """Whether the stage reranks this query (the profile's ``semantic_gate``)."""
        if profile.semantic_gate == "question_like":
            return question_like(text)
        return profile.semantic_gate == "all"

    def rerank(self, gen, candidates, best, text, profile):
        """``(best reordered, {docnum: explanation})``; ``best`` unchanged when the stage does not apply.

        :param best: positions into ``candidates.ids``, in lexical order.
        """
        if not len(best) or not self.gate(text, profile):
            return best, {}
        ready = self.usable(gen, profile)
        if ready is None:
            return best, {}
        embedder, store = ready
        k = min(profile.semantic_k, len(best))
        head = best[:k]
        docs = candidates.ids[head]
        ids = [gen.stored(int(d))["id"] for d in docs]
        qvec = embedder.embed([text])[0]
        cosines = store.vectors(ids) @ qvec
        if profile.semantic_blend == "rrf":
            order = rrf_order(cosines, profile.semantic_weight)
        else:
            order = linear_order(candidates.score[head], cosines, profile.semantic_weight)
        order = _keep_named_titles(order, candidates.title_bonus[head] > 0)
        fused = np.concatenate([head[order], best[k:]])
        info = {
            int(docs[j]): {
                "cosine": round(float(cosines[j]), 4),
                "lexical_position": int(j) + 1,
                "fused_position": int(pos) + 1,
                "kept_in_place": bool(candidates.title_bonus[head[j]] > 0),
            }
            for pos, j in enumerate(order)
        }
        return fused, info


def _keep_named_titles(order, protected):
    """``order`` with every protected position fixed in place and the others filling the gaps in fused order.

    >>> _keep_named_titles(np.array([2, 1, 0]), np.array([True, False, False])).tolist()
    [0, 2, 1]
    """
    if not protected.any():
        return order
    out = np.arange(len(order))
    free = ~protected
    out[free] = [j for j in order if not protected[j]]
    return out
