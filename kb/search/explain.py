"""Why a document ranks where it does: its rule values and per-term, per-field BM25F.

Like Lucene's and Tantivy's ``explain``: for each result the ranking rules'
values (:func:`kb.search.ranking.explain`), each typed word's alternatives
with idf, df, the pseudo-frequency and the score split over the fields, and
how the article's score and the question prior entered.
"""

import numpy as np

from . import ranking
from .scorer import prefix_terms
from .similarity import BM25F


def explain_doc(candidates, rules, doc):
    """The explanation of ``doc`` (a doc number) for the ``/search?explain=true`` response."""
    gen, query, matches, profile = candidates.gen, candidates.query, candidates.matches, candidates.profile
    out = {"rules": None, "slots": [], "parent": None, "question_prior": None}
    i = int(candidates.ids.searchsorted(doc))
    if i < len(candidates.ids) and candidates.ids[i] == doc:
        out["rules"] = ranking.explain(candidates, rules, i)
    bm25 = BM25F(gen, profile)
    for slot in query.slots:
        out["slots"].append(_explain_slot(bm25, gen, slot, profile, doc))
    if matches.inherited is not None and gen.parent[doc] >= 0:
        out["parent"] = {
            "article": gen.slugs[gen.slug_of[doc]],
            "article_score": round(float(matches.inherited[doc]), 4),
            "blend": profile.parent_blend,
            "capped": bool(
                not query.question and matches.total[doc] == np.float32(matches.inherited[doc] * profile.parent_cap)
            ),
        }
    if query.question and gen.kind[doc] == 2:
        out["question_prior"] = profile.question_prior
    return out


def _explain_slot(bm25, gen, slot, profile, doc):
    """A typed word: each alternative's BM25F for ``doc``; the best one counts."""
    alts = []
    for alt in slot.alts:
        share = alt.weight / len(alt.terms)  # a phrase counts its words' mean
        terms = [{"term": t, **bm25.explain(doc, [t], scale=share)} for t in alt.terms]
        entry = {"how": alt.how, "weight": round(alt.weight, 4), "terms": terms}
        if alt.how == "typo":
            entry.update(word=alt.word, edits=alt.edits)
        if len(alt.terms) > 1 and not all(t["score"] for t in terms):
            entry["note"] = "a phrase counts only when all its words match"
            score = 0.0
        else:
            score = sum(t["score"] for t in terms)
        entry["score"] = round(score, 4)
        alts.append(entry)
    if slot.prefix:
        terms = prefix_terms(gen, slot, profile)
        if terms:
            e = bm25.explain(doc, terms, scale=profile.weight_prefix)
            alts.append(
                {"how": "prefix", "weight": profile.weight_prefix, "prefix": slot.prefix, "completions": terms, **e}
            )
    best = max(alts, key=lambda a: a["score"], default=None)
    return {
        "word": slot.word,
        "score": best["score"] if best else 0.0,
        "matched_by": best["how"] if best and best["score"] > 0 else None,
        "alternatives": alts,
    }
