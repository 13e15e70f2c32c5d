"""Judged query sets: reading them, and how each is run and judged (its views).

A :class:`QuerySet` holds queries with a category each, and one or more
:class:`View`: a way to ask the engine (``mode``), a way to turn a hit into a
document id (``docid``) and the qrels those ids are judged against.  Three sets
are known:

- a site-search directory (``eval/sitesearch/``): ``queries.tsv``,
  ``qrels.article.txt`` and optionally ``qrels.faq.txt`` (FAQ ids already in
  heading order);
- the development set (``devset.tsv``: ``category, query, relevant, notes``);
  its MedQuAD FAQ ids number pairs by their MedQuAD position, mapped to kb's
  heading order through ``_index/qa_pairs.tsv``;
- TREC LiveQA 2017 medical questions (a directory of ``queries*.tsv`` and
  ``qrels*.txt``), whose FAQ ids are mapped the same way.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

RELEVANT = 2  # a judgment counts as relevant (a right answer) from this grade


@dataclass(frozen=True)
class Query:
    """One judged query."""

    qid: str
    category: str
    text: str


@dataclass(frozen=True)
class View:
    """One way of running and judging a set.

    :param name: short name, used in file names (``strict``, ``page``, ``faq``...).
    :param mode: how the engine is asked: ``mixed`` (the page as visitors see it),
        ``article`` (one result per article) or ``faq`` (FAQ entries only).
    :param ids: ``strict`` (articles by slug, FAQ entries as ``slug#qN``, N the
        heading order) or ``page`` (every hit counts as its article).
    :param qrels: ``{qid: {docid: grade}}``.
    :param title: a line saying what is judged.
    """

    name: str
    mode: str
    ids: str
    qrels: dict
    title: str


@dataclass
class QuerySet:
    """Queries, their categories and the views they are judged in."""

    name: str
    source: str
    queries: dict  # qid -> Query, in file order
    views: list
    zero: str = ""  # the category whose queries have nothing relevant
    notes: list = field(default_factory=list)

    def categories(self):
        """Categories in file order, the zero category left out."""
        seen = []
        for q in self.queries.values():
            if q.category not in seen and q.category != self.zero:
                seen.append(q.category)
        return seen


def has_relevant(judgments):
    """Whether a query's judgments hold at least one relevant document."""
    return any(g >= RELEVANT for g in judgments.values())


# -- FAQ ids ---------------------------------------------------------------


def read_faq_positions(path):
    """``{position id: heading id or None}`` from MedQuAD's ``qa_pairs.tsv``.

    MedQuAD numbers an article's pairs by their position in the source
    (``slug#q<position>``); kb numbers FAQ entries by their ``###`` heading order
    (``md_faq_index``).  They differ where a pair has no answer and so no heading.
    Pairs without a heading map to ``None``.
    """
    table = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            index = (row.get("md_faq_index") or "").strip()
            answered = (row.get("has_answer") or "1").strip() == "1"
            table[row["qa_id"]] = f"{row['slug']}#q{index}" if index and answered else None
    return table


def faq_mapper(table):
    """A docid mapping for judgments: MedQuAD FAQ ids to heading order.

    Ids of articles, and FAQ ids of articles the table does not know (the
    clinic's own article), pass unchanged; a MedQuAD pair without a heading
    maps to ``None`` (dropped: it is not in the index).
    """
    slugs = {qa_id.partition("#")[0] for qa_id in table}

    def mapped(docid):
        slug, hash_, _ = docid.partition("#")
        if not hash_ or slug not in slugs:
            return docid
        return table.get(docid)

    return mapped


def page_level(qrels):
    """Page-level judgments: each article takes the highest grade of itself and its FAQ entries."""
    out = {}
    for qid, judgments in qrels.items():
        pages = {}
        for docid, grade in judgments.items():
            slug = docid.partition("#")[0]
            pages[slug] = max(grade, pages.get(slug, grade))
        out[qid] = pages
    return out


# -- files -----------------------------------------------------------------


def read_queries(path, category=""):
    """``{qid: Query}`` from ``qid<TAB>text`` or ``qid<TAB>category<TAB>text`` lines."""
    queries = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row or not row[0].strip():
                continue
            cat, text = (row[1], row[2]) if len(row) >= 3 else (category, row[1])
            queries[row[0]] = Query(row[0], cat, text)
    return queries


def read_qrels(path, docid=lambda d: d):
    """``{qid: {docid: grade}}`` from TREC qrels; ``docid`` maps each id as read (None drops it)."""
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


def read_devset(path, docid=lambda d: d):
    """Queries and strict qrels of a ``devset.tsv`` (``category, query, relevant, notes``).

    Query ids are ``<category>-NN``, numbered in file order within each category.
    ``relevant`` is ``id:grade,id:grade,...``; ``docid`` maps each id (None drops it).
    :returns: ``(queries, qrels, dropped)``, ``dropped`` the ids that mapped to None.
    """
    queries, qrels, dropped, counts = {}, {}, [], defaultdict(int)
    with open(path, encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"category", "query", "relevant"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}:1: header lacks {', '.join(sorted(missing))}")
        for n, row in enumerate(reader, 2):
            category = row["category"].strip()
            counts[category] += 1
            qid = f"{category}-{counts[category]:02d}"
            queries[qid] = Query(qid, category, row["query"])
            judgments = {}
            for item in filter(None, (row["relevant"] or "").split(",")):
                raw, colon, grade = item.strip().rpartition(":")
                if not colon or not grade.isdigit():
                    raise ValueError(f"{path}:{n}: expected id:grade, got {item!r}")
                mapped = docid(raw)
                if mapped is None:
                    dropped.append(raw)
                    continue
                judgments[mapped] = max(int(grade), judgments.get(mapped, 0))
            if judgments:
                qrels[qid] = judgments
    return queries, qrels, dropped


# -- the sets --------------------------------------------------------------


def sitesearch_set(set_dir):
    """The repo's site-search set: article level, FAQ level and the mixed page, plus 'none'."""
    set_dir = Path(set_dir)
    queries = read_queries(set_dir / "queries.tsv")
    article = read_qrels(set_dir / "qrels.article.txt")
    faq_path = set_dir / "qrels.faq.txt"
    faq = read_qrels(faq_path) if faq_path.exists() else {}
    strict = {q: {**article.get(q, {}), **faq.get(q, {})} for q in set(article) | set(faq)}
    views = [
        View("article", "article", "strict", article, "one result per article, article judgments"),
        View("strict", "mixed", "strict", strict, "the page as shown; article and FAQ ids judged separately"),
    ]
    if faq:
        views.append(View("faq", "faq", "strict", faq, "FAQ entries only, FAQ judgments"))
    return QuerySet(set_dir.name, str(set_dir), queries, views, zero="none")


def devset(path, qa_pairs):
    """The development set: strict (articles and FAQ ids apart) and page-level views."""
    queries, strict, dropped = read_devset(path, faq_mapper(read_faq_positions(qa_pairs)))
    views = [
        View("strict", "mixed", "strict", strict, "strict: article ids and FAQ ids judged separately"),
        View("page", "mixed", "page", page_level(strict), "page level: each hit counts as its article"),
    ]
    notes = [f"{len(dropped)} judgments dropped (FAQ pair not in the index): {', '.join(dropped)}"] if dropped else []
    return QuerySet("devset", str(path), queries, views, zero="zero", notes=notes)


def liveqa_halves(qrels_list):
    """``{qid: 'tune' | 'check'}``: the judged questions in id order, alternately."""
    judged = sorted({q for qrels in qrels_list for q, j in qrels.items() if has_relevant(j)}, key=int)
    return {q: ("tune" if i % 2 == 0 else "check") for i, q in enumerate(judged)}


def liveqa_sets(liveqa_dir, qa_pairs):
    """TREC LiveQA 2017 medical questions, as summaries and as sent; categories are the halves."""
    liveqa_dir = Path(liveqa_dir)
    faq = read_qrels(liveqa_dir / "qrels.faq.txt", faq_mapper(read_faq_positions(qa_pairs)))
    article = read_qrels(liveqa_dir / "qrels.article.txt")
    halves = liveqa_halves([faq, article])
    views = [
        View("faq", "faq", "strict", faq, "FAQ entries only"),
        View("article", "article", "strict", article, "one result per article"),
    ]
    sets = []
    for label, file in (("summary", "queries.summary.tsv"), ("original", "queries.tsv")):
        raw = read_queries(liveqa_dir / file)
        queries = {q: Query(q, halves[q], v.text) for q, v in raw.items() if q in halves}
        sets.append(QuerySet(f"liveqa-{label}", str(liveqa_dir / file), queries, views))
    return sets
