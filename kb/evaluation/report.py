"""The text ``kb eval`` prints: metric tables per category, the zero-result check,
seed success@1 and the confidence calibration table."""

from . import metrics
from .sets import RELEVANT

LABELS = {
    "ndcg@10": "nDCG@10",
    "ndcg@10 judged": "judged",
    "ndcg@10 exp": "nDCG exp",
    "rr@10": "RR@10",
    "success@1": "S@1",
    "success@3": "S@3",
    "recall@10": "R@10",
    "judged@10": "Judged@10",
}


LEGEND = (
    "nDCG@10: graded, linear gains (trec_eval); judged: nDCG@10 with unjudged results removed; "
    "nDCG exp: gains 2^grade-1 (issue 10's figures);\n"
    "RR@10, S@1, S@3 (success), R@10 (recall): relevant = grade >= 2; "
    "Judged@10: share of the results in the top 10 that have a judgment. Metrics by ir-measures."
)


def rows(run, categories):
    """``[(name, n, {metric: mean})]``: one row per category with scored queries, then ALL."""
    out = []
    for cat in categories:
        qids = [q for q in run.scores if run.queries[q].category == cat]
        if qids:
            out.append((cat, len(qids), metrics.mean(run.scores, qids)))
    out.append(("ALL", len(run.scores), metrics.mean(run.scores)))
    return out


def table(title, table_rows):
    """A plain-text table of metric means."""
    head = f"{'category':<12} {'n':>4} " + " ".join(f"{LABELS[m]:>9}" for m in metrics.NAMES)
    lines = [title, head, "-" * len(head)]
    for name, n, means in table_rows:
        cells = " ".join(f"{means[m]:>9.3f}" if means else f"{'-':>9}" for m in metrics.NAMES)
        lines.append(f"{name[:12]:<12} {n:>4} {cells}")
    return "\n".join(lines)


def answered_empty_or_low(run, category):
    """``(honest, total, confident)``: the category's queries answered with nothing or
    ``confidence: low``, out of all of them, and the ids of those answered confidently."""
    qids = [q for q, v in run.queries.items() if v.category == category]
    confident = [q for q in qids if run.answers[q]["total"] and run.answers[q]["confidence"] != "low"]
    return len(qids) - len(confident), len(qids), confident


def zero_line(run, category):
    """'zero: answered empty or low confidence n/N', and the confident ones."""
    honest, total, confident = answered_empty_or_low(run, category)
    lines = [f"{category} (nothing relevant): answered empty or low confidence {honest}/{total}"]
    for q in confident:
        a = run.answers[q]
        lines.append(f"  {q} {run.queries[q].text!r}: {a['total']} results, confidence {a['confidence']}")
    return "\n".join(lines)


def right_in_top(run, qid, qrels, k=3):
    """Whether a document of grade >= 2 is among the first ``k`` results."""
    judgments = qrels.get(qid, {})
    return any(judgments.get(d, 0) >= RELEVANT for d in run.rankings.get(qid, [])[:k])


def confusion(run, qrels, zero, k=3):
    """Counts of (row, column): rows ``right``, ``wrong`` (judged queries, right answer
    in the top ``k`` or not) and ``zero``; columns ``high``, ``low``, ``empty``."""
    counts = {(r, c): 0 for r in ("right", "wrong", "zero") for c in ("high", "low", "empty")}
    for qid, q in run.queries.items():
        a = run.answers[qid]
        column = "empty" if not a["total"] else ("high" if a["confidence"] == "high" else "low")
        if q.category == zero:
            counts["zero", column] += 1
        elif qid in run.scores:
            counts["right" if right_in_top(run, qid, qrels, k) else "wrong", column] += 1
    return counts


def confusion_table(run, qrels, zero, k=3):
    """The confusion table (right answer in the top ``k`` × confidence) as text."""
    c = confusion(run, qrels, zero, k)
    names = {
        "right": f"right answer (grade >= {RELEVANT}) in top {k}",
        "wrong": f"no right answer in top {k}",
        "zero": f"{zero} category (nothing relevant)",
    }
    lines = [
        f"Confidence calibration ({run.set}, {run.view} view)",
        f"{'':40} {'high':>6} {'low':>6} {'empty':>6}",
    ]
    for r in ("right", "wrong", "zero"):
        lines.append(f"{names[r]:40} " + " ".join(f"{c[r, col]:>6}" for col in ("high", "low", "empty")))
    right, high = c["right", "high"], c["right", "high"] + c["wrong", "high"] + c["zero", "high"]
    answerable = c["right", "high"] + c["right", "low"]
    lines.append(
        f"'high' when a right answer is in the top {k}: {right}/{answerable}; "
        f"a right answer in the top {k} when 'high': {right}/{high}"
    )
    return "\n".join(lines)


def set_report(qset, runs):
    """All tables for one set's runs."""
    parts = []
    for run, view in zip(runs, qset.views):
        text = table(f"{qset.name} — {run.title} ({qset.source})", rows(run, qset.categories()))
        if qset.zero and view.mode == "mixed":
            text += "\n" + zero_line(run, qset.zero)
        if "seed" in qset.categories() and view.ids == "strict":
            seed = rows(run, ["seed"])[0][2]
            text += f"\nseed success@1: {seed.get('success@1', float('nan')):.2f}"
        parts.append(text)
    for note in qset.notes:
        parts.append(f"note: {note}")
    shown = [(r, v) for r, v in zip(runs, qset.views) if v.mode == "mixed" and v.ids == "strict"]
    if qset.zero and shown:
        parts.append(confusion_table(shown[0][0], shown[0][1].qrels, qset.zero))
    return "\n\n".join(parts)
