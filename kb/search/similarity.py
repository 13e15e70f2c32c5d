"""BM25F over a snapshot (Robertson & Zaragoza): weighted field frequencies, saturated once.

A term's frequency in each field is weighted (title/question above body) and
length-normalised, the fields are summed into one pseudo-frequency, and that is
saturated once: ``idf * tf (k1 + 1) / (tf + k1)``.  An article's body counts
its sections' and FAQ entries' text too (its whole text).
"""

import math

import numpy as np


class BM25F:
    """BM25F of one snapshot under one profile's weights, ``field_b`` and ``k1``."""

    def __init__(self, snapshot, profile):
        self.gen = snapshot
        self.weights = profile.field_weights
        self.k1 = profile.k1

    def _parts(self, term, fields):
        """``(field, doc ids or None for all, weighted length-normalised tf)`` per field holding ``term``."""
        gen = self.gen
        for f, w in self.weights.items():
            if fields is not None and f not in fields:
                continue
            ids, tf = gen.postings(f, term)
            if f == "body":
                tf_all = np.zeros(gen.n, dtype=np.float32)
                tf_all[ids] = tf
                for child_field in ("title", "body"):  # an article's whole text
                    cids, ctf = gen.postings(child_field, term)
                    if len(cids):
                        tf_all += gen.to_articles(cids, ctf)
                yield f, None, w * tf_all / gen.norm["body"]
            elif len(ids):
                yield f, ids, w * tf / gen.norm[f][ids]

    def pseudo_frequency(self, term, fields=None):
        """Dense BM25F pseudo-frequency of ``term``: the fields' weighted tf, summed."""
        acc = np.zeros(self.gen.n, dtype=np.float32)
        for _, ids, values in self._parts(term, fields):
            if ids is None:
                acc += values
            else:
                acc[ids] += values
        return acc

    def field_frequencies(self, term, fields=None):
        """``{field: dense weighted, length-normalised tf}`` of ``term`` (for explain)."""
        out = {}
        for f, ids, values in self._parts(term, fields):
            if ids is None:
                out[f] = values
            else:
                out[f] = np.zeros(self.gen.n, dtype=np.float32)
                out[f][ids] = values
        return out

    def idf(self, df):
        """``log(1 + (N - df + 0.5) / (df + 0.5))``, N the live documents."""
        return math.log(1 + (self.gen.n_live - df + 0.5) / (df + 0.5))

    def saturate(self, acc):
        """``(BM25 score array, df)`` from a pseudo-frequency array.

        Deleted documents (old versions of edited articles) are masked out
        first: the document frequency counts live documents only, like ``n_live``
        in :meth:`idf`, so an edited word's weight equals a full build's.
        """
        acc = acc * self.gen.live
        df = int(np.count_nonzero(acc))
        if df == 0:
            return acc, 0
        return self.idf(df) * acc * (self.k1 + 1) / (acc + self.k1), df

    def explain(self, doc, terms, fields=None, scale=1.0):
        """How ``terms`` (one combined pseudo-frequency, as a prefix's completions) score ``doc``.

        :returns: ``{"idf", "df", "tf", "score", "fields": {field: share of the score}}``;
            the fields' shares add up to the score (times ``scale``).
        """
        acc = np.zeros(self.gen.n, dtype=np.float32)
        per_field = {}
        for t in terms:
            for f, part in self.field_frequencies(t, fields).items():
                acc += part
                per_field[f] = per_field.get(f, 0.0) + float(part[doc])
        df = int(np.count_nonzero(acc * self.gen.live))
        tf = float(acc[doc])
        if not df or not tf:
            return {"idf": 0.0, "df": df, "tf": 0.0, "score": 0.0, "fields": {}}
        idf = self.idf(df)
        score = idf * tf * (self.k1 + 1) / (tf + self.k1) * scale
        fields_out = {f: round(score * v / tf, 4) for f, v in per_field.items() if v}
        return {"idf": round(idf, 4), "df": df, "tf": round(tf, 4), "score": round(score, 4), "fields": fields_out}
