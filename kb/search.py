"""Searching the current index generation: ranked hits with highlighted snippets.

:class:`Engine` is what the web layer and the CLI hold.  It serves from the
current generation and notices a newly published one within
``reload_seconds``, without a restart: requests already running finish on the
old generation, new ones use the new one.  Each thread keeps its own Whoosh
searcher (WHOOSH.md, hazard 1: a shared searcher corrupts results).

Queries are forgiving: the visitor's text is analysed into words and matched
in every field (no operators, so nothing typed is a syntax error), each word
scored by its best field (title and question above body), documents matching
more words ranking higher.
"""

import re
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.query import DisjunctionMax, Or, Term

from . import generations
from .articles import render_html
from .errors import BadQuery, IndexMissing, NotFound
from .schema import ANALYZER, FIELD_BOOSTS
from .snippets import fold, highlight

KINDS = ("article", "section", "faq")
MAX_QUERY_CHARS = 10_000
MAX_QUERY_TERMS = 32
MAX_LIMIT = 50
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Hit:
    """One search result."""

    id: str
    kind: str
    slug: str
    title: str
    url: str
    snippet: str
    score: float
    article_title: str = ""
    title_html: str = ""

    def as_dict(self):
        return asdict(self)


@dataclass
class Results:
    """A page of results and what the query became."""

    query: str
    total: int
    took_ms: float
    hits: list = field(default_factory=list)
    generation: str = ""
    terms: list = field(default_factory=list)


def normalize_query(q):
    """The query as searched: control characters removed, spaces collapsed.

    :raises BadQuery: the query is longer than :data:`MAX_QUERY_CHARS`.
    """
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery("q", f"q is {len(q)} characters long; the most is {MAX_QUERY_CHARS}")
    return " ".join(_CONTROL.sub(" ", q).split())


@lru_cache(maxsize=200_000)
def analyze_word(word):
    """The indexed form of one word ("Miscarriages" -> "miscarriag"), or ''."""
    tokens = [t.text for t in ANALYZER(word)]
    return tokens[0] if tokens else ""


def query_terms(q):
    """The distinct analysed terms of a query, in order, at most MAX_QUERY_TERMS."""
    seen = []
    for token in ANALYZER(q):
        if token.text not in seen:
            seen.append(token.text)
            if len(seen) == MAX_QUERY_TERMS:
                break
    return seen


class _Generation:
    """One opened generation, shared by the threads that search it."""

    def __init__(self, path):
        self.path = Path(path)
        self.name = self.path.name
        self.lease = generations.ReaderLease(self.path)
        try:
            self.index = whoosh_index.open_dir(self.path)
        except Exception:
            self.lease.release()
            raise
        self.record = generations.read_record(self.path)
        self.searchers = 0
        self.retired = False

    def close(self):
        self.index.close()
        self.lease.release()


class Engine:
    """Searches the current generation of the index in ``index_dir``."""

    def __init__(self, index_dir, reload_seconds=1.0):
        self.index_dir = Path(index_dir)
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._local = threading.local()
        self._current = None
        self._checked = 0.0
        self._html_cache = {}

    # -- generations -------------------------------------------------------

    def _generation(self):
        """The current generation, re-read from disk at most every reload_seconds."""
        now = time.monotonic()
        if self._current is not None and now - self._checked < self.reload_seconds:
            return self._current
        with self._lock:
            if self._current is None or now - self._checked >= self.reload_seconds:
                self._checked = now
                name = generations.current_name(self.index_dir)
                if name is None:
                    if self._current is None:
                        raise IndexMissing(f"no index in {self.index_dir}")
                elif self._current is None or name != self._current.name:
                    fresh = _Generation(self.index_dir / name)
                    old, self._current = self._current, fresh
                    self._html_cache = {}
                    if old is not None:
                        old.retired = True
                        self._close_if_unused(old)
        return self._current

    def _close_if_unused(self, gen):
        if gen.retired and gen.searchers == 0:
            gen.close()

    def _searcher(self):
        """This thread's searcher on the current generation."""
        gen = self._generation()
        local = self._local
        if getattr(local, "gen", None) is not gen:
            old_gen, old_searcher = getattr(local, "gen", None), getattr(local, "searcher", None)
            searcher = gen.index.searcher(weighting=scoring.BM25F())
            with self._lock:
                gen.searchers += 1
                if old_gen is not None:
                    old_searcher.close()
                    old_gen.searchers -= 1
                    self._close_if_unused(old_gen)
            local.gen, local.searcher = gen, searcher
        return local.gen, local.searcher

    def close(self):
        """Release every generation (the process is stopping)."""
        with self._lock:
            if self._current is not None:
                self._current.close()
                self._current = None

    # -- searching ---------------------------------------------------------

    def search(self, q, limit=10, offset=0, kind=None):
        """Search and return a :class:`Results` page.

        :param q: the visitor's text; anything is accepted.
        :param limit: results per page, 1 to 50.
        :param offset: results to skip.
        :param kind: ``article``, ``section`` or ``faq`` to search one kind only.
        """
        started = time.perf_counter()
        if not 1 <= limit <= MAX_LIMIT:
            raise BadQuery("limit", f"limit must be between 1 and {MAX_LIMIT}")
        if offset < 0:
            raise BadQuery("offset", "offset must be 0 or more")
        if kind is not None and kind not in KINDS:
            raise BadQuery("kind", f"kind must be one of {', '.join(KINDS)}")
        text = normalize_query(q)
        gen, searcher = self._searcher()
        terms = query_terms(text)
        results = Results(query=text, total=0, took_ms=0.0, generation=gen.name, terms=terms)
        if terms:
            query = Or(
                [
                    DisjunctionMax([Term(f, t, boost=b) for f, b in FIELD_BOOSTS.items()], tiebreak=0.2)
                    for t in terms
                ]
            )
            flt = Term("kind", kind) if kind else None
            page = searcher.search(query, limit=offset + limit, filter=flt)
            results.total = len(page)
            match, hints = _matcher(terms)
            for hit in page[offset : offset + limit]:
                results.hits.append(
                    Hit(
                        id=hit["id"],
                        kind=hit["kind"],
                        slug=hit["slug"],
                        title=hit["title"],
                        url=hit["url"],
                        snippet=highlight(hit["body"] or hit.get("summary", ""), match, hints),
                        score=round(hit.score, 4),
                        article_title=hit["article_title"],
                        title_html=highlight(hit["title"], match, hints, size=None),
                    )
                )
        results.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return results

    # -- articles and health ----------------------------------------------

    def article(self, slug):
        """An article's metadata, FAQ entries, sections and rendered HTML.

        :raises NotFound: no article has this slug.
        """
        gen, searcher = self._searcher()
        docs = sorted(
            (dict(d) for d in searcher.documents(slug=slug)),
            key=lambda d: (KINDS.index(d["kind"]), d.get("position") or 0),
        )
        if not docs or docs[0]["kind"] != "article":
            raise NotFound(f"no article with slug {slug!r}")
        head = docs[0]
        html = self._html_cache.get(slug)
        if html is None:
            html = self._html_cache[slug] = render_html(head["markdown"])
            if len(self._html_cache) > 256:
                self._html_cache.pop(next(iter(self._html_cache)))
        entry = lambda d: {"id": d["id"], "anchor": d["anchor"], "url": d["url"]}
        return {
            **head["meta"],
            "sections": [{**entry(d), "heading": d["title"]} for d in docs if d["kind"] == "section"],
            "faqs": [
                {**entry(d), "question": d["title"], "answer": d["body"], "position": d["position"]}
                for d in docs
                if d["kind"] == "faq"
            ],
            "html": html,
            "generation": gen.name,
        }

    def health(self):
        """The serving generation: its name, build time and document counts."""
        gen = self._generation()
        record = gen.record
        return {
            "status": "ok",
            "generation": gen.name,
            "built_at": record.get("built_at"),
            "counts": record.get("counts", {}),
            "documents": gen.index.doc_count(),
            "problems": len(record.get("problems", [])),
        }


def _matcher(terms):
    """What the snippet highlighter marks: words whose analysed form is a query term."""
    wanted = set(terms)

    def match(word):
        return (len(word), word) if analyze_word(word) in wanted else (0, None)

    return match, [fold(t[:3]) for t in terms]
