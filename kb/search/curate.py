"""Which curation rules a planned query matches, and what they do to its candidates.

The rules come from the generation's ``curation.json`` (:mod:`kb.curation`
parses ``articles/curation.yaml`` at index time).  A rule's words are
normalised as a query's are (:data:`~kb.store.schema.ANALYZER`: stop words
dropped, stemmed); a typed word matches a rule word through its exact term or
one of the planner's typo corrections, so ``heavy bleding`` matches a rule for
``heavy bleeding`` whenever the planner corrects ``bleding`` to ``bleeding``.
Prefixes and synonyms do not count: a rule fires on what was typed.
"""

from dataclasses import dataclass, field

from ..curation import active
from ..store.schema import ANALYZER
from ..text import words
from .query import EXACT, TYPO


@dataclass
class Curated:
    """What the rules a query matched do: pins, hides and one notice."""

    rules: list = field(default_factory=list)  # the matched rules' names, in file order
    pins: dict = field(default_factory=dict)  # doc number -> (position, rule name)
    hidden: set = field(default_factory=set)  # doc numbers
    notice: dict = None  # {"text", "link", "rule"}

    def __bool__(self):
        return bool(self.rules)


def rule_terms(text):
    """A rule's words as query terms (stop words dropped, stemmed)."""
    return [t for t in (ANALYZER.term(w) for w in words(text)) if t]


def _slot_terms(slot):
    return {a.terms[0] for a in slot.alts if a.how in (EXACT, TYPO) and len(a.terms) == 1}


def matches(rule, slots):
    """Whether the planned query's ``slots`` match ``rule`` (phrase: adjacent, in order; words: anywhere)."""
    return _matches(rule, [_slot_terms(s) for s in slots])


def _matches(rule, typed):
    """:func:`matches`, given each slot's terms (computed once per query, not per rule)."""
    wanted = rule["terms"] if "terms" in rule else rule_terms(rule["text"])
    if not wanted:
        return False
    if rule["match"] == "words":
        return all(any(t in terms for terms in typed) for t in wanted)
    n = len(wanted)
    return any(all(wanted[j] in typed[i + j] for j in range(n)) for i in range(len(typed) - n + 1))


def prepared(rules):
    """The rules with their words analysed once (``terms``) and their place in the file (``order``)."""
    return [{**rule, "terms": rule_terms(rule["text"]), "order": n} for n, rule in enumerate(rules)]


def by_first_term(rules):
    """``{term: [rules whose first word it is]}``: a query is checked only against rules it may match."""
    index = {}
    for rule in rules:
        if rule["terms"]:
            index.setdefault(rule["terms"][0], []).append(rule)
    return index


def curate(gen, query, today):
    """The :class:`Curated` effect of the generation's rules that ``query`` matches on ``today``.

    Pins: the first rule (in file order) that pins a document decides its
    position; hides win over pins; the first matched notice is shown.
    """
    out = Curated()
    typed = [_slot_terms(s) for s in query.slots]
    index = gen.curation_by_term
    maybe = {r["order"]: r for t in set().union(*typed) for r in index.get(t, ())}
    for _, rule in sorted(maybe.items()):
        if not active(rule, today) or not _matches(rule, typed):
            continue
        out.rules.append(rule["name"])
        for doc_id in rule["hide"]:
            out.hidden.update(gen.docs_of_id(doc_id))
        taken = {p for p, _ in out.pins.values()}
        for doc_id, position in rule["pin"]:
            for d in gen.docs_of_id(doc_id, whole_article=False):
                if d not in out.pins and position not in taken:
                    out.pins[d] = (position, rule["name"])
                    taken.add(position)
        if rule["notice"] and out.notice is None:
            out.notice = {**rule["notice"], "rule": rule["name"]}
    for d in out.hidden:
        out.pins.pop(d, None)
    return out


def place(ranked, pins):
    """``ranked`` (doc numbers, best first) with each pinned document moved to its position.

    The :class:`~kb.search.ranking.Curation` rule already sorts pinned documents
    first, in position order; a pin to position 3 then moves below two others.
    """
    if not pins:
        return ranked
    pinned = sorted((pins[int(d)][0], int(d)) for d in ranked if int(d) in pins)
    rest = [int(d) for d in ranked if int(d) not in pins]
    for position, d in pinned:
        rest.insert(min(position - 1, len(rest)), d)
    return rest
