"""Relevance evaluation: judged query sets, IR metrics, and the ``kb eval`` report.

Query sets are TREC-style files:

- queries: ``qid<TAB>text`` or ``qid<TAB>category<TAB>text``
- qrels: ``qid 0 docid grade`` (grade 0-3; relevant means grade >= 2)

Document ids are article slugs (article level) or ``slug#qN`` (FAQ level, N the
question's position).  Metrics follow trec_eval conventions: linear gains for
nDCG, queries without a relevant judgment are left out of the averages.  Most
documents are unjudged for any query, so ``judged@10`` (the share of the top 10
that has a judgment) is reported beside every figure, with the condensed-list
nDCG (unjudged documents removed before scoring) as a second view.
"""

import csv
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

RELEVANT = 2
K = 10


# -- reading ---------------------------------------------------------------


def read_queries(path):
    """``{qid: (category, text)}``; the category is '' for two-column files."""
    queries = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row or not row[0].strip():
                continue
            if len(row) >= 3:
                queries[row[0]] = (row[1], row[2])
            else:
                queries[row[0]] = ("", row[1])
    return queries


def read_qrels(path, docid=lambda d: d):
    """``{qid: {docid: grade}}``; ``docid`` maps each id as read (or drops it: None)."""
    qrels = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise ValueError(f"{path}:{n}: expected 'qid 0 docid grade'")
            mapped = docid(parts[2])
            if mapped is not None:
                qrels[parts[0]][mapped] = max(int(parts[3]), qrels[parts[0]].get(mapped, 0))
    return dict(qrels)


# -- metrics ---------------------------------------------------------------


def dcg(gains):
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(ranking, judgments, k=K):
    """nDCG@k with linear gains (the grade)."""
    ideal = dcg(sorted(judgments.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judgments.get(d, 0) for d in ranking[:k]]) / ideal


def reciprocal_rank(ranking, judgments, k=K):
    for i, d in enumerate(ranking[:k]):
        if judgments.get(d, 0) >= RELEVANT:
            return 1.0 / (i + 1)
    return 0.0


def success(ranking, judgments, k):
    return float(any(judgments.get(d, 0) >= RELEVANT for d in ranking[:k]))


def recall(ranking, judgments, k=K):
    relevant = {d for d, g in judgments.items() if g >= RELEVANT}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def judged(ranking, judgments, k=K):
    top = ranking[:k]
    return sum(d in judgments for d in top) / len(top) if top else 0.0


def score_query(ranking, judgments):
    """Every metric for one query's ranking."""
    condensed = [d for d in ranking if d in judgments]
    return {
        "ndcg@10": ndcg(ranking, judgments),
        "ndcg@10 condensed": ndcg(condensed, judgments),
        "mrr@10": reciprocal_rank(ranking, judgments),
        "success@1": success(ranking, judgments, 1),
        "success@3": success(ranking, judgments, 3),
        "recall@10": recall(ranking, judgments),
        "judged@10": judged(ranking, judgments),
    }


METRICS = ("ndcg@10", "ndcg@10 condensed", "mrr@10", "success@1", "success@3", "recall@10", "judged@10")


@dataclass
class Row:
    """Averages over one group of queries."""

    name: str
    queries: int
    metrics: dict = field(default_factory=dict)
    extra: str = ""


def average(name, per_query):
    """A :class:`Row` averaging ``per_query`` (a list of metric dicts)."""
    if not per_query:
        return Row(name, 0)
    return Row(name, len(per_query), {m: statistics.fmean(q[m] for q in per_query) for m in METRICS})


def format_table(title, rows):
    """A plain-text table of rows of metrics."""
    head = f"{'':28} {'n':>4} " + " ".join(f"{m.replace(' condensed', ' cond'):>12}" for m in METRICS)
    lines = [title, head, "-" * len(head)]
    for row in rows:
        cells = " ".join(f"{row.metrics.get(m, float('nan')):>12.3f}" for m in METRICS)
        lines.append(f"{row.name[:28]:28} {row.queries:>4} {cells}{row.extra}")
    return "\n".join(lines)


# -- runs over the engine --------------------------------------------------


def faq_id(hit):
    """The FAQ-level id of a FAQ hit: ``slug#qN``."""
    return f"{hit.slug}#q{hit.position}"


def rank_articles(engine, text, k=K):
    """Article-level ranking: the first hit of each article, in order."""
    return [r.slug for r in engine.search(text, limit=k, group="article").hits]


def rank_faqs(engine, text, k=K):
    """FAQ-level ranking: FAQ entries only."""
    return [faq_id(h) for h in engine.search(text, limit=k, kind="faq").hits]


def evaluate(engine, queries, qrels, rank):
    """``{qid: metrics}`` for every query with at least one relevant judgment."""
    out = {}
    for qid, (_, text) in queries.items():
        judgments = qrels.get(qid, {})
        if not any(g >= RELEVANT for g in judgments.values()):
            continue
        out[qid] = score_query(rank(engine, text), judgments)
    return out


def liveqa_report(engine, liveqa_dir, corpus_dir):
    """Tables for the TREC LiveQA 2017 medical questions, tune and check halves.

    The questions with a relevant judgment, in id order, alternate between the
    tuning half (1st, 3rd, ...) and the check half (2nd, 4th, ...).
    LiveQA's FAQ judgments number questions by their position in the MedQuAD
    source; ``_index/qa_pairs.tsv`` maps them to kb's heading order.
    """
    liveqa_dir, corpus_dir = Path(liveqa_dir), Path(corpus_dir)
    to_heading = {}
    with open(corpus_dir / "_index" / "qa_pairs.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["md_faq_index"]:
                to_heading[row["qa_id"]] = f"{row['slug']}#q{row['md_faq_index']}"
    faq_qrels = read_qrels(liveqa_dir / "qrels.faq.txt", to_heading.get)
    article_qrels = read_qrels(liveqa_dir / "qrels.article.txt")
    judged_qids = sorted(
        {q for qrels in (faq_qrels, article_qrels) for q, j in qrels.items() if any(g >= RELEVANT for g in j.values())},
        key=int,
    )
    tune = set(judged_qids[0::2])  # alternate over the judged questions: two halves of one size
    tables = []
    for label, file in (("summary", "queries.summary.tsv"), ("original", "queries.tsv")):
        queries = read_queries(liveqa_dir / file)
        rows = []
        for level, qrels, rank in (("faq", faq_qrels, rank_faqs), ("article", article_qrels, rank_articles)):
            scores = evaluate(engine, queries, qrels, rank)
            for half, in_tune in (("tune", True), ("check", False)):
                part = [m for q, m in scores.items() if (q in tune) == in_tune]
                rows.append(average(f"{level} {half}", part))
            rows.append(average(f"{level} all", list(scores.values())))
        tables.append(format_table(f"LiveQA 2017 medical questions ({label} text)", rows))
    return "\n\n".join(tables)


def sitesearch_report(engine, set_dir):
    """Tables for a judged site-search set, per category, plus the 'none' check."""
    set_dir = Path(set_dir)
    queries = read_queries(set_dir / "queries.tsv")
    article_qrels = read_qrels(set_dir / "qrels.article.txt")
    scores = evaluate(engine, queries, article_qrels, rank_articles)
    categories = sorted({c for c, _ in queries.values()} - {"none"})
    rows = [average(c, [m for q, m in scores.items() if queries[q][0] == c]) for c in categories]
    rows.append(average("all", list(scores.values())))
    text = format_table(f"Site search, article level ({set_dir})", rows)

    faq_path = set_dir / "qrels.faq.txt"
    if faq_path.exists():
        faq_qrels = read_qrels(faq_path)
        faq_scores = evaluate(engine, {q: v for q, v in queries.items() if q in faq_qrels}, faq_qrels, rank_faqs)
        by_cat = sorted({queries[q][0] for q in faq_scores})
        faq_rows = [average(c, [m for q, m in faq_scores.items() if queries[q][0] == c]) for c in by_cat]
        text += "\n\n" + format_table("Site search, FAQ level", faq_rows)

    none = [(q, t) for q, (c, t) in queries.items() if c == "none"]
    if none:
        honest, lines = 0, []
        for qid, t in none:
            res = engine.search(t, limit=10)
            ok = res.total == 0 or res.confidence == "low"
            honest += ok
            lines.append(
                f"  {qid} {t!r}: {res.total} results, confidence {res.confidence}{'' if ok else '  <-- confident'}"
            )
        text += f"\n\n'none' queries answered honestly (no results or low confidence): {honest}/{len(none)}\n"
        text += "\n".join(lines)
    return text
