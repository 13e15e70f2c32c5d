"""The :class:`Engine` facade: what the web layer and the CLI hold.

A search request flows: :class:`~kb.search.request.SearchRequest` (checked)
-> :func:`~kb.search.planner.plan` (typed terms) -> :func:`~kb.search.scorer.score`
(per-document features) -> :mod:`~kb.search.ranking` rules -> a collector (top
``k`` or one group per article) -> :mod:`~kb.search.answers` (confidence, answer
card), :mod:`~kb.search.spelling` (did you mean) and
:class:`~kb.search.highlight.Highlighter` (snippets) -> :class:`Results`.
"""

import datetime
import functools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..articles import KINDS, render_html
from ..bounded import BoundedLRU
from ..errors import NotFound
from ..snippets import SCAN_CHARS, find_matches
from ..text import STOP_WORDS
from . import answers, collectors, curate, planner, ranking, scorer, spelling
from .explain import explain_doc
from .fusion import SemanticStage
from .highlight import Highlighter
from .manager import GenerationManager
from .profile import RankingProfile
from .request import SearchRequest, check_suggest_limit, normalize_query
from .results import Hit, Notice, Results
from .snapshot import Snapshot
from .suggest import suggest as _suggest


class Engine:
    """Searches the current generation of the index in ``index_dir``.

    :param profile: the :class:`RankingProfile` (every ranking constant); default today's.
    :param rules: the ranking rules, in order; default :func:`~kb.search.ranking.default_rules`.
    :param semantic: an :class:`~kb.semantic.Embedder`, or a function returning
        one (called once, on first use), for the semantic stage
        (:mod:`~kb.search.fusion`); None: lexical search only.
    :param today: ``today() -> datetime.date``, the day curation rules' ``from``/``until`` are
        compared with (tests inject one); default the server's local date.
    """

    def __init__(self, index_dir, reload_seconds=1.0, cache_mb=32, profile=None, rules=None, today=None, semantic=None):
        self.index_dir = Path(index_dir)
        self.today = today or datetime.date.today
        self.profile = profile or RankingProfile()
        self.rules = tuple(rules or ranking.default_rules())
        self.semantic = SemanticStage(semantic) if semantic is not None else None
        # No reference back to the engine: the manager's reload thread holds the manager weakly.
        self.generations = GenerationManager(
            self.index_dir, functools.partial(Snapshot.open, field_b=self.profile.field_b), reload_seconds
        )
        # Bounded in bytes (one answer is 1-300 KB); keyed by generation: a new one starts afresh.
        self._results = BoundedLRU(cache_mb * (1 << 20))
        self._html = BoundedLRU(16 << 20)  # (generation, slug) -> rendered HTML

    @property
    def reload_seconds(self):
        return self.generations.reload_seconds

    def generation_name(self):
        """The name of the generation being served (cheap: no search is run)."""
        return self.generations.current().name

    def wait_for_generation(self, name, timeout=10.0):
        """Block until ``name`` is being served (tests and the benchmark use it)."""
        return self.generations.wait_for(name, timeout)

    def cache_stats(self):
        """The result cache's lookups so far and its size: ``(hits, misses, bytes)``."""
        return self._results.hits, self._results.misses, self._results.bytes

    def close(self):
        """Release every generation (the process is stopping)."""
        self.generations.close()

    # -- searching ---------------------------------------------------------

    def search(self, q, limit=10, offset=0, kind=None, group=None, explain=False):
        """Search and return a :class:`Results` page.

        :param q: the visitor's text; anything is accepted.
        :param limit: results per page, 1 to 50.
        :param offset: results to skip.
        :param kind: ``article``, ``section`` or ``faq`` to search one kind only.
        :param group: ``article``: one result per article, its best matching
            sections and FAQ entries as ``children``.
        :param explain: add each hit's ``explain``: rule values and BM25F per term and field.
        """
        started = time.perf_counter()
        req = SearchRequest.parse(q, limit, offset, kind, group, explain)
        with self.generations.acquire() as gen:
            today = self.today()  # a curation rule may start or end at midnight
            key = (gen.name, today, *req.cache_key)
            results = self._results.get(key)
            cache_hit = results is not None
            if results is None:
                results = self._search(gen, req, today)
                self._results.put(key, results)
        return replace(results, took_ms=round((time.perf_counter() - started) * 1000, 2), cache_hit=cache_hit)

    def _search(self, gen, req, today=None):
        results = Results(query=req.text, total=0, took_ms=0.0, limit=req.limit, offset=req.offset, generation=gen.name)
        query = planner.plan(gen, req.text, self.profile, req.typing)
        if not query.slots:
            results.confidence = "low"  # nothing searchable was typed
            return results
        curated = curate.curate(gen, query, today or self.today()) if gen.curation else None
        if curated and curated.notice:
            results.notice = Notice(**curated.notice)
        matches = scorer.score(gen, query, self.profile)
        candidates = self._candidates(gen, query, matches, req.kind, curated)
        # Enough ranked documents for the page (a group of an article can hold dozens of its FAQ entries).
        top = (req.offset + req.limit) * (50 if req.group else 1) + 200
        best = collectors.top_k(ranking.sort_keys(candidates, self.rules), top, gen.order[candidates.ids])
        fused = {}
        if self.semantic is not None:
            best, fused = self.semantic.rerank(gen, candidates, best, req.text, self.profile)
        ranked = candidates.ids[best]
        score_of = dict(zip(ranked.tolist(), candidates.score[best].tolist()))
        organic = ranked  # the ranking without pins: what confidence and the answer card judge
        if curated and curated.pins:
            others = [r for r in self.rules if not isinstance(r, ranking.Curation)]
            organic = candidates.ids[
                collectors.top_k(ranking.sort_keys(candidates, others), top, gen.order[candidates.ids])
            ]
            organic = organic[matches.total[organic] > 0]  # a pinned document the query misses is not judged
        first = int(organic[0]) if len(organic) else None  # the best match, wherever diversity puts it
        hidden = curated.hidden if curated else ()
        moved = {}
        if req.kind is None:
            matched = matches.total > 0
            matched[list(hidden)] = False  # diversity never brings up a hidden article
            diversified, moved = collectors.diversify(gen, ranked, query.question, self.profile, matched)
            if organic is not ranked:
                organic = collectors.diversify(gen, organic, query.question, self.profile, matched)[0]
            else:
                organic = diversified
            ranked = diversified
        for d in moved:
            if d not in score_of:  # an article brought up to its entry from below the top
                score_of[d] = float(candidates.score[candidates.ids.searchsorted(d)])
        if curated and curated.pins:
            ranked = np.array(curate.place(ranked, curated.pins), dtype=candidates.ids.dtype)
        page = _Page(gen, Highlighter(query.slots), candidates, self.rules if req.explain else None, moved, fused)
        if req.group == "article":
            results.total = len(np.unique(gen.slug_of[candidates.ids]))
            groups = collectors.group_by_article(gen, ranked, req.offset + req.limit, hidden=hidden)
            for head, children in groups[req.offset :]:
                hit = page.hit(head, score_of.get(int(head), matches.total[head]))
                hit.children = [page.hit(c, score_of.get(int(c), matches.total[c])).as_dict() for c in children]
                results.hits.append(hit)
        else:
            results.total = len(candidates.ids)
            results.hits = [page.hit(d, score_of[int(d)]) for d in ranked[req.offset : req.offset + req.limit]]
        self._judge(gen, query, matches, organic, first, page, results)
        return results

    def _candidates(self, gen, query, matches, kind, curated=None):
        found = matches.total > 0
        if curated:
            found[list(curated.pins)] = True  # a pinned document is shown even if the query misses it
            found[list(curated.hidden)] = False  # a hidden one never
        if kind is not None:
            found &= gen.kind == KINDS.index(kind)
        return ranking.Candidates(gen, query, matches, self.profile, np.flatnonzero(found), curated)

    def _judge(self, gen, query, matches, ranked, first, page, results):
        """Confidence, the answer card, did-you-mean and words that matched nothing."""
        results.unmatched = [s.word for s in query.slots if not s.hits and s.word not in STOP_WORDS]
        results.confidence = answers.confidence(gen, query, matches, first, self.profile)
        results.did_you_mean = spelling.did_you_mean(gen, query.slots)
        if results.confidence == "high":
            d = answers.answer_doc(gen, query, matches, ranked, self.profile)
            if d is not None:
                hit = page.hit(d, matches.total[d], explain=False)
                results.answer = answers.answer_card(hit, gen.stored(d), page.highlighter)

    # -- suggestions, articles, health ----------------------------------------

    def suggest(self, q, limit=8):
        """Completions for a search box: article titles, FAQ questions, synonyms (see :mod:`.suggest`)."""
        check_suggest_limit(limit)
        text = normalize_query(q)
        with self.generations.acquire() as gen:
            return _suggest(gen, text, not q[-1:].isspace(), limit, self.profile, self.rules, self.today())

    def article(self, slug):
        """An article's metadata, FAQ entries, sections and rendered HTML.

        :raises NotFound: no article has this slug.
        """
        with self.generations.acquire() as gen:
            return self._article(gen, slug)

    def _article(self, gen, slug):
        docs = sorted(
            (gen.stored(d) for d in gen.docs_of(slug)),
            key=lambda d: (KINDS.index(d["kind"]), d.get("position") or 0),
        )
        if not docs or docs[0]["kind"] != "article":
            raise NotFound(f"no article with slug {slug!r}")
        head = docs[0]
        html = self._html.get((gen.name, slug))
        if html is None:
            html = render_html(head["markdown"])
            self._html.put((gen.name, slug), html)
        entry = lambda d: {"id": d["id"], "anchor": d["anchor"], "url": d["url"]}  # noqa: E731
        # The source file's path stays private: it is the server's layout, not the article's.
        return {
            **{k: v for k, v in head["meta"].items() if k != "path"},
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
        gen = self.generations.current()
        record = gen.record
        return {
            "status": "ok",
            "generation": gen.name,
            "built_at": record.get("built_at"),
            "counts": record.get("counts", {}),
            "documents": gen.n_live,
            "problems": len(record.get("problems", [])),
            "build_seconds": record.get("build_seconds"),
            "search": self.search_mode(gen),
        }

    def embedder(self):
        """The semantic stage's embedder (loaded once, on first use), or None: builds by the API embed with it."""
        return self.semantic.embedder() if self.semantic is not None else None

    def search_mode(self, gen=None):
        """``{"mode": "lexical"}``, or ``{"mode": "hybrid", "model": id}`` when the semantic stage is on."""
        if self.semantic is None:
            return {"mode": "lexical"}
        return self.semantic.mode(gen or self.generations.current(), self.profile)


class _Page:
    """Turns doc numbers into :class:`Hit`\\ s for one query (with explanations if asked)."""

    def __init__(self, gen, highlighter, candidates, rules=None, moved=None, fused=None):
        self.gen = gen
        self.highlighter = highlighter
        self.candidates = candidates
        self.rules = rules
        self.moved = moved or {}
        self.fused = fused or {}

    def hit(self, docnum, score, explain=True):
        stored = self.gen.stored(docnum)
        body = stored.get("body") or stored.get("summary") or ""
        if stored["kind"] == "article":
            body = best_passage(passages(self.gen, stored), self.highlighter) or body
        return Hit(
            id=stored["id"],
            kind=stored["kind"],
            slug=stored["slug"],
            title=stored["title"],
            url=stored["url"],
            snippet=self.highlighter.snippet(body),
            score=round(float(score), 4),
            article_title=stored.get("article_title", ""),
            title_html=self.highlighter.title(stored["title"]),
            position=stored.get("position") or 0,
            explain=self._explain(int(docnum)) if self.rules and explain else None,
        )

    def _explain(self, docnum):
        out = explain_doc(self.candidates, self.rules, docnum)
        out["diversity"] = self.moved.get(docnum)
        if docnum in self.fused:
            out["semantic"] = self.fused[docnum]
        return out


def passages(gen, stored):
    """An article's passages: its lead, then each section's and FAQ answer's text.

    The stored body is these joined with their headings (``kb.articles``); a
    snippet across them would run a FAQ question into the text around it.
    """
    body = stored.get("body") or ""
    children = sorted(
        (gen.stored(d) for d in gen.docs_of(stored["slug"]) if gen.kind[d] > 0),
        key=lambda c: (KINDS.index(c["kind"]), c.get("position") or 0),
    )
    texts = [c.get("body") or "" for c in children]
    tail = "\n".join(f"{c['title']}\n{t}" if t else c["title"] for c, t in zip(children, texts))
    if not children or not body.endswith(tail):
        return [body]  # not the layout expected: the whole text as one passage
    lead = body[: len(body) - len(tail)].strip()
    return [p for p in [lead, *texts] if p.strip()]


def best_passage(texts, highlighter):
    """The passage with the most distinct matched words, then most matches (up to 4), the earliest of equals."""
    best, best_count = (texts[0] if texts else ""), (0, 0)
    for p in texts:
        found = find_matches(p[:SCAN_CHARS], highlighter.match, highlighter.hints)
        count = (len({key for _, _, key in found}), min(len(found), 4))
        if count > best_count:
            best, best_count = p, count
    return best
