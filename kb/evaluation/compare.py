"""``kb eval --compare A B``: paired differences between two saved runs, per category.

For each category the mean difference (B - A) of one metric over the queries
both runs scored, a paired bootstrap 95 % confidence interval of that mean
(queries resampled with replacement) and a two-sided paired randomisation test
(signs of the per-query differences flipped at random).  A change of ALL is
called a gain (or a loss) only when its interval excludes zero and the
randomisation test agrees (p < 0.05); otherwise it is not a gain.
"""

import numpy as np

REPS = 10_000
ALPHA = 0.05
SEED = 20261129


def bootstrap_ci(diffs, reps=REPS, seed=SEED, level=0.95):
    """The percentile bootstrap interval of the mean of ``diffs``: ``(low, high)``."""
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, diffs.size, size=(reps, diffs.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))


def randomisation_p(diffs, reps=REPS, seed=SEED):
    """Two-sided p-value of a paired randomisation (sign-flip) test that the mean difference is 0."""
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size == 0:
        return float("nan")
    observed = abs(diffs.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice((-1.0, 1.0), size=(reps, diffs.size))
    null = np.abs((signs * diffs).mean(axis=1))
    return float((np.sum(null >= observed - 1e-12) + 1) / (reps + 1))


def paired(run_a, run_b, metric, qids=None):
    """``[(qid, a, b)]`` for the queries both runs scored (restricted to ``qids``)."""
    common = [q for q in run_a.scores if q in run_b.scores and (qids is None or q in qids)]
    return [(q, run_a.scores[q][metric], run_b.scores[q][metric]) for q in common]


def judgement(diff, low, high, p):
    """What a change of ``diff`` with interval ``[low, high]`` and p-value ``p`` may be called."""
    if np.isnan(low):
        return "no queries in common: nothing to judge"
    if low == high == diff == 0:
        return "NO CHANGE: every query scores the same in A and B"
    stats = f"{diff:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}], p = {p:.4f}"
    if (low > 0 or high < 0) and p < ALPHA:
        return f"{'GAIN' if low > 0 else 'LOSS'}: ALL moved {stats}; the interval excludes 0 and p < {ALPHA}"
    if low > 0 or high < 0:
        return f"NOT A GAIN: ALL moved {stats}; the interval excludes 0 but the randomisation test does not agree"
    return f"NOT A GAIN: ALL moved {stats}; the change is smaller than its confidence interval (it includes 0)"


def compare_runs(run_a, run_b, metric="ndcg@10", width=70):
    """The comparison of one set and view as text."""
    categories = list(dict.fromkeys(q.category for q in run_a.queries.values()))
    lines = [
        f"{run_a.key}: {metric}, B - A, paired over queries both scored ({REPS} resamples)",
        f"{'category':<12} {'n':>4} {'A':>7} {'B':>7} {'B-A':>8} {'95% CI':>19} {'p':>7}",
    ]
    verdict = ""
    for cat in [*categories, "ALL"]:
        qids = None if cat == "ALL" else {q for q, v in run_a.queries.items() if v.category == cat}
        pairs = paired(run_a, run_b, metric, qids)
        if not pairs:
            continue
        a = np.array([p[1] for p in pairs])
        b = np.array([p[2] for p in pairs])
        low, high = bootstrap_ci(b - a)
        p = randomisation_p(b - a)
        diff = float((b - a).mean())
        lines.append(
            f"{cat[:12]:<12} {len(pairs):>4} {a.mean():>7.3f} {b.mean():>7.3f} {diff:>+8.4f} "
            f"[{low:+.3f}, {high:+.3f}] {p:>7.4f}"
        )
        if cat == "ALL":
            verdict = judgement(diff, low, high, p)
    lines.append(verdict or "no queries in common: nothing to judge")
    moved = sorted((b - a, q, a, b) for q, a, b in paired(run_a, run_b, metric) if abs(b - a) > 1e-9)
    for label, items in (("up", [m for m in reversed(moved) if m[0] > 0]), ("down", [m for m in moved if m[0] < 0])):
        lines.append(f"{len(items)} queries went {label}:")
        for d, q, a, b in items:
            text = run_b.queries.get(q, run_a.queries[q]).text
            text = text if len(text) <= width else text[: width - 1] + "…"
            lines.append(f"  {d:+.3f} {a:.3f} -> {b:.3f}  {q} [{run_a.queries[q].category}] {text}")
    same = [q for q in run_a.queries if q in run_b.queries and run_a.rankings.get(q) == run_b.rankings.get(q)]
    lines.append(f"rankings identical (same ids, same order): {len(same)}/{len(run_a.queries)} queries")
    changed = [q for q in run_a.queries if q in run_b.queries and run_a.queries[q].text != run_b.queries[q].text]
    if changed:
        lines.append(f"warning: {len(changed)} query ids have different text in A and B: {', '.join(changed[:5])}")
    return "\n".join(lines)


def compare_dirs(runs_a, runs_b, metric="ndcg@10"):
    """The comparison of every set and view saved in both directories."""
    keys = [k for k in runs_a if k in runs_b]
    if not keys:
        raise ValueError("the two run directories have no set and view in common")
    parts = [compare_runs(runs_a[k], runs_b[k], metric) for k in keys]
    only = sorted(set(runs_a) ^ set(runs_b))
    if only:
        parts.append(f"only in one of the two: {', '.join(only)}")
    return "\n\n".join(parts)
