"""From the typed text to a :class:`~kb.search.query.Query`: slots with prefix, typo and synonym alternatives."""

import math

from ..store.schema import ANALYZER
from ..text import words
from .query import AMBIGUOUS, EXACT, SYNONYM, TYPO, Alt, Query, Slot
from .request import MAX_QUERY_WORDS
from .vocabulary import typo_budget


def plan(gen, text, profile, typing=True):
    """The query's slots, with prefix, typo and synonym alternatives.

    :param gen: a :class:`~kb.search.snapshot.Snapshot` (its vocabulary and synonyms).
    :param typing: False when the raw query ended in a space: then no word is a prefix.
    """
    typed = words(text)[: MAX_QUERY_WORDS * 2]
    question = text.endswith("?") or (bool(typed) and typed[0] in profile.question_words)
    # The last word is still being typed unless a space follows it; punctuation
    # typed after it ("misca?", "misc*", "recurrent misc,") does not end it.
    slots = _slots(typed, typing and bool(typed), profile)
    _add_synonyms(gen, slots, profile)
    for slot in slots:
        _add_typos(gen, slot, profile)
    return Query(text, slots, question or len(slots) >= profile.question_slots)


def _slots(typed, ends_in_word, profile):
    """A slot per content word; the last word, still being typed, also as a prefix."""
    slots = []
    for i, word in enumerate(typed):
        term = ANALYZER.term(word)
        is_last = ends_in_word and i == len(typed) - 1
        if not term and not is_last:
            continue
        slot = Slot(word=word, term=term)
        if term:
            slot.alts.append(Alt((term,), 1.0, EXACT))
        if is_last and len(word) >= profile.min_prefix:
            slot.prefix = word
        slots.append(slot)
        if len(slots) == MAX_QUERY_WORDS:
            break
    return slots


def _add_synonyms(gen, slots, profile):
    terms = [s.term for s in slots]
    for start, end, alternatives in gen.synonyms.matches(terms):
        for alt in alternatives:
            for s in slots[start:end]:
                s.alts.append(Alt(alt, profile.weight_synonym, SYNONYM))
    for start, end, alternatives in gen.synonyms.ambiguous_matches(terms):
        for alt in alternatives:
            for s in slots[start:end]:
                if profile.weight_ambiguous:
                    s.alts.append(Alt(alt, profile.weight_ambiguous, AMBIGUOUS))
                else:  # the rule off: a synonym like any other
                    s.alts.append(Alt(alt, profile.weight_synonym, SYNONYM))


def _add_typos(gen, slot, profile):
    """Corrections from the vocabulary for a word the knowledge base hardly knows."""
    df = gen.vocabulary.df(slot.word)
    if not slot.term or df >= profile.known_word_df:
        return  # a real word of the knowledge base: no guessing
    found = gen.vocabulary.corrections(slot.word, typo_budget(slot.word))[: profile.max_corrections]
    if not found:
        return
    top_df = max(c[2] for c in found)
    # A word found in a document or two next to a common spelling of it is a
    # misspelling in those documents too: the correction is not counted as a
    # typo then (it ranks like the word as typed).
    slot.misspelled = df <= profile.misspelling_df and top_df >= profile.misspelling_ratio * max(df, 1)
    for word, edits, cdf in found:
        term = ANALYZER.term(word)
        if term and term != slot.term:
            weight = profile.weight_typo[edits] * math.sqrt(cdf / top_df)  # the common spelling first
            slot.alts.append(Alt((term,), weight, TYPO, word, edits))
