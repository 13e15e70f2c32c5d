"""Every ranking constant in one frozen :class:`RankingProfile`.

Each constant says where its value came from.  "LiveQA tune" is the tuning half
of TREC LiveQA 2017 in ``kb eval`` (MedQuAD, Ben Abacha & Demner-Fushman 2019,
CC BY 4.0); "sitesearch" is ``eval/sitesearch/``.  Experiments override values
without editing code::

    profile = RankingProfile().with_overrides(k1=2.5)
    engine = Engine(index_dir, profile=profile)
"""

import dataclasses
import json
from dataclasses import dataclass, field
from types import MappingProxyType


def _frozen(mapping):
    return field(default_factory=lambda: MappingProxyType(dict(mapping)))


@dataclass(frozen=True)
class RankingProfile:
    """The constants of scoring, ranking, answers and spelling (see each comment)."""

    # -- BM25F -----------------------------------------------------------------
    #: Field weights: a word in a title or FAQ question counts for more than the
    #: same word in body text (set by hand at v1, kept by the LiveQA tune runs).
    field_weights: MappingProxyType = _frozen(
        {"title": 5.0, "keywords": 3.0, "article_title": 1.0, "summary": 1.5, "body": 1.0}
    )
    #: Length normalisation per field (0: none, 1: full); 0.75 is BM25's usual
    #: value, keywords 0.5 because tag lists are short by nature (hand set).
    field_b: MappingProxyType = _frozen(
        {"title": 0.75, "keywords": 0.5, "article_title": 0.75, "summary": 0.75, "body": 0.75}
    )
    #: Term-frequency saturation: LiveQA tune, 1.2 -> 3.0 gave +0.05 nDCG@10.
    k1: float = 3.0

    # -- query terms -------------------------------------------------------------
    #: A synonym's score share: "the visitor's own words rank above a synonym's" (sitesearch synonym set).
    weight_synonym: float = 0.8
    #: An article's own synonym that is another article's title or a phrase of
    #: synonyms.txt ("Neural tube defects" on Anencephaly) leads to it with this
    #: share, and names its title only for the lowest title bonus; 0: as any synonym.
    #: Dev set ALL +0.003 [+0.000, +0.006], title +0.015 (issue 10).
    weight_ambiguous: float = 0.4
    #: A typo correction's score share by edit distance 0, 1, 2 (sitesearch typo set).
    weight_typo: tuple = (1.0, 0.35, 0.2)
    #: The last word's completions count for this share (sitesearch prefix set).
    weight_prefix: float = 0.9
    #: Completions read for a prefix, the most frequent first: bounds a query's cost (bench).
    max_prefix_terms: int = 40
    #: Letters the last word needs before it also matches as a prefix (sitesearch prefix set).
    min_prefix: int = 2
    #: Corrections tried per typed word (bench: cost; sitesearch typo set).
    max_corrections: int = 3
    #: A word found in this many documents or more is a real word: no corrections (sitesearch typo set).
    known_word_df: int = 3
    #: A word in at most ``misspelling_df`` documents, next to a correction found
    #: ``misspelling_ratio`` times as often, is a misspelling in those documents too.
    misspelling_df: int = 2
    misspelling_ratio: float = 20.0

    # -- scoring -------------------------------------------------------------------
    #: Share of an article's score its sections and FAQ entries inherit (LiveQA tune, FAQ level).
    parent_blend: float = 0.8
    #: For a topic query an entry stays just below its own article: at most this share of it.
    parent_cap: float = 0.999
    #: FAQ entries' score factor when the query is a question (LiveQA tune, FAQ level).
    question_prior: float = 1.2
    #: Bonus (x the best score) for a title that is exactly the query (article,
    #: section/FAQ), or contained whole in it (sitesearch title set).  Contained
    #: 0.5 -> 0.25: dev set ALL +0.019 [+0.008, +0.033], seed success@1 0.50 ->
    #: 0.75, LiveQA tune +0.019 (n.s.) (issue 10).
    title_bonus: tuple = (1.0, 0.75, 0.25)
    #: Outside questions a typed word counts as in a title when its typo
    #: correction, completion or synonym is ("klinefelter syndr"): dev set ALL
    #: +0.025 [+0.009, +0.042], typo +0.103, synonym +0.055; in questions it cost
    #: LiveQA tune 0.04 (issue 10).
    title_credit: bool = True

    # -- diversity (collectors.diversify) --------------------------------------------------
    #: Topic queries: each article's FAQ entries and sections ahead of the next
    #: articles, at most (the rest follow every other match); -1: no limit.  Dev
    #: set ALL +0.048 [+0.032, +0.066] at 1; 0: -0.057, 2: -0.016 (issue 10).
    side_entries: int = 1
    #: Questions: each article just before its first entry.  Dev set ALL +0.066
    #: [+0.046, +0.087], seed +0.227, question +0.106, hard +0.130 (issue 10).
    question_article_first: bool = True

    # -- query type ------------------------------------------------------------------
    #: Words whose first place makes a query a question.
    question_words: frozenset = frozenset("what how why when where which who can is are do does should will".split())
    #: Content words from which a query counts as a question (LiveQA vs sitesearch).
    question_slots: int = 4
    #: Up to this many words, more matched words rank first (sitesearch: a search box).
    short_query: int = 4

    # -- confidence and answer card -------------------------------------------------------
    #: Share of the words the best result must match: all for 1-2 words, else
    #: this; up to ``short_query`` words a title must also spell this share as
    #: typed (or as a synonym); an entry counts its article's words and title.
    #: 0.6/0.6 -> 0.5/0.5 calibrated on the dev set: right answer in the top 3
    #: and high 87 -> 111 of 129, zero-result queries empty or low 18/20 (issue 10).
    confidence_coverage: float = 0.5
    confidence_agreement: float = 0.5
    confidence_with_article: bool = True
    #: Answer card: a FAQ entry in the top ``answer_top`` with at least this share
    #: of the best score and whose question holds this share of the query's words.
    answer_score_share: float = 0.6
    answer_coverage: float = 0.6
    answer_top: int = 5

    # -- semantic stage (kb.search.fusion; only with the semantic extra and a generation's vectors) --------
    #: Lexical candidates reranked: bench/semantic_eval.py reranked kb's top 50 (dev set, bench/README.md).
    semantic_k: int = 50
    #: Which queries are reranked: ``question_like`` (a question word first, or 4+ content words), ``all``
    #: or ``none``.  Dev set: applied to all queries it hurt titles (0.947 -> 0.895) and typos (0.865 -> 0.743).
    semantic_gate: str = "question_like"
    #: ``linear`` (min-max BM25F and cosine) or ``rrf``: dev set linear ALL +0.040 (CI +0.026..+0.057),
    #: LiveQA check +0.016 (n.s.); rrf +0.076 on the dev set but LiveQA check -0.09, so linear.
    semantic_blend: str = "linear"
    #: The cosine's weight in the blend: 0.6 chosen on LiveQA's tuning half (bench/semantic_eval.py --liveqa),
    #: dev set ALL +0.040; LiveQA check half +0.016, not significant.
    semantic_weight: float = 0.6
    #: What a document's vector is made of (kb.semantic.texts.DOCUMENT_TEXT; title+answer beat the title alone
    #: on the dev set: ALL 0.699 vs 0.679); vectors of another text are not used.
    semantic_text: str = "title+answer"

    def with_overrides(self, **values):
        """A copy with ``values`` replaced; strings are parsed (``"2.5"``, ``"[1, 0.3, 0.2]"``).

        :raises ValueError: an unknown name or a value of the wrong shape.
        """
        names = {f.name: f for f in dataclasses.fields(self)}
        changes = {}
        for name, value in values.items():
            if name not in names:
                raise ValueError(f"unknown ranking setting {name!r}; known: {', '.join(sorted(names))}")
            changes[name] = _coerce(name, getattr(self, name), value)
        return dataclasses.replace(self, **changes)

    def with_settings(self, settings):
        """A copy with ``name=value`` strings applied (``kb eval --set k1=2.5``).

        :raises ValueError: a setting without ``=``, an unknown name or a bad value.
        """
        values = {}
        for setting in settings:
            name, sep, value = setting.partition("=")
            if not sep:
                raise ValueError(f"expected name=value, not {setting!r}")
            values[name.strip()] = value.strip()
        return self.with_overrides(**values)

    def as_dict(self):
        """The profile as plain JSON-able values."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, MappingProxyType):
                value = dict(value)
            elif isinstance(value, (tuple, frozenset)):
                value = sorted(value) if isinstance(value, frozenset) else list(value)
            out[f.name] = value
        return out


def _coerce(name, current, value):
    """``value`` in the type of ``current`` (strings parsed as JSON or plain words)."""
    if isinstance(current, str):
        return str(value)
    if isinstance(value, str) and not isinstance(current, str):
        try:
            value = json.loads(value)
        except ValueError:
            if isinstance(current, frozenset):
                value = value.replace(",", " ").split()
            else:
                raise ValueError(f"{name}: cannot read {value!r}") from None
    try:
        if isinstance(current, MappingProxyType):
            merged = dict(current)
            for key, v in dict(value).items():
                if key not in merged:
                    raise ValueError(f"{name}: unknown field {key!r}")
                merged[key] = float(v)
            return MappingProxyType(merged)
        if isinstance(current, frozenset):
            return frozenset(value)
        if isinstance(current, tuple):
            if len(value) != len(current):
                raise ValueError(f"{name}: expected {len(current)} values")
            return tuple(float(v) for v in value)
        if isinstance(current, bool):
            return bool(value)
        if isinstance(current, int):
            if float(value) != int(value):
                raise ValueError(f"{name}: expected a whole number")
            return int(value)
        return float(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: {e}") from None
