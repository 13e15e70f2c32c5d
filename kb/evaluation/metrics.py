"""Metrics per query with ir-measures (trec_eval semantics), and their averages.

Gains for nDCG are the grades (linear, as trec_eval); the binary measures count
grade >= 2 as relevant.  Most documents are unjudged for any query, so beside
nDCG@10 the judged-only nDCG@10 (unjudged results removed before scoring, the
"condensed list") and Judged@10 (the share of the top 10 that has a judgment)
are reported.  ``ndcg@10 exp`` uses exponential gains (2^grade - 1), the
variant that issue 10's figures were measured with.  Queries without a relevant judgment are left out of the
averages; a query the engine answers with nothing scores 0 on every measure.
"""

import statistics

import ir_measures
from ir_measures import RR, Judged, R, Success, nDCG

from .sets import RELEVANT, has_relevant

EXP_GAINS = {0: 0, 1: 1, 2: 3, 3: 7}  # 2**grade - 1: the gains of the figures in issue 10's table
MEASURES = {
    "ndcg@10": nDCG @ 10,
    "ndcg@10 judged": nDCG(judged_only=True) @ 10,
    "ndcg@10 exp": nDCG(gains=EXP_GAINS) @ 10,
    "rr@10": RR(rel=RELEVANT) @ 10,
    "success@1": Success(rel=RELEVANT) @ 1,
    "success@3": Success(rel=RELEVANT) @ 3,
    "recall@10": R(rel=RELEVANT) @ 10,
    "judged@10": Judged @ 10,
}
NAMES = tuple(MEASURES)
_BY_MEASURE = {m: name for name, m in MEASURES.items()}


def as_run(rankings):
    """``{qid: {docid: score}}`` for ir-measures from ``{qid: [docid, ...]}``.

    Scores are derived from the ranks (n, n-1, ...), so the evaluation sees the
    engine's order exactly, whatever its own scores are (ties included).
    """
    run = {}
    for qid, ids in rankings.items():
        unique = list(dict.fromkeys(ids))
        run[qid] = {d: float(len(unique) - i) for i, d in enumerate(unique)}
    return run


def score(qrels, rankings):
    """``{qid: {metric: value}}`` for every query in ``qrels`` with a relevant judgment.

    :param qrels: ``{qid: {docid: grade}}``.
    :param rankings: ``{qid: [docid, ...]}`` best first; a missing query is an empty answer.
    """
    judged = {q: j for q, j in qrels.items() if has_relevant(j)}
    out = {q: dict.fromkeys(NAMES, 0.0) for q in judged}
    run = {q: r for q, r in as_run(rankings).items() if q in judged and r}
    if run:
        # One measure per call: ir-measures 0.4.3 mixes up nDCG with and without
        # custom gains asked in one call (which one wins depends on the hash seed).
        for measure in MEASURES.values():
            for m in ir_measures.iter_calc([measure], judged, run):
                out[m.query_id][_BY_MEASURE[m.measure]] = float(m.value)
    return out


def mean(per_query, qids=None):
    """``{metric: mean}`` over ``qids`` (default: all) of ``per_query``; empty if none."""
    rows = [per_query[q] for q in (per_query if qids is None else qids) if q in per_query]
    if not rows:
        return {}
    return {name: statistics.fmean(r[name] for r in rows) for name in NAMES}
