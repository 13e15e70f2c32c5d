"""Highlighted snippets: escaped text in which only ``<mark>`` is markup.

Pure Python, no engine: the caller says which words match (and how many of a
word's characters to mark, so a typed prefix marks only the prefix).
"""

import html
import re

from .text import WORD_RE, fold

#: Matches are looked for in a text's first characters only (as Whoosh's
#: highlighter does): a snippet from page 20 of an article helps nobody.
SCAN_CHARS = 12_000
#: ... and at most this many matches are collected.
MAX_SPANS = 48
_SPACE = re.compile(r"\s+")


def find_matches(text, match, hints):
    """``[(start, end, key)]`` of the words in ``text`` that ``match`` accepts.

    :param match: ``match(folded_word) -> (chars_to_mark, key)``; 0 chars means no.
    :param hints: folded word beginnings; only words starting with one are tried,
        so a long text costs one regular-expression scan, not one call per word.
    """
    hints = sorted({h for h in hints if h}, key=len, reverse=True)
    if not hints or not text:
        return []
    folded = fold(text)
    if len(folded) != len(text):  # a character whose lower case is longer (rare)
        folded = text.lower()
        if len(folded) != len(text):
            return []
    pattern = re.compile(r"\b(?:%s)" % "|".join(map(re.escape, hints)))
    found, pos = [], 0
    for m in pattern.finditer(folded):
        if len(found) == MAX_SPANS:
            break  # enough to choose a window from
        if m.start() < pos:
            continue  # inside a word already looked at
        word = WORD_RE.match(folded, m.start())
        if word is None:
            continue
        pos = word.end()
        chars, key = match(word.group())
        if chars:
            found.append((word.start(), word.start() + min(chars, len(word.group())), key))
    return found


def mark(text, spans):
    """Escape ``text``, wrap each ``(start, end, ...)`` span in ``<mark>``, fold spaces."""
    out, pos = [], 0
    for start, end, *_ in spans:
        out.append(_SPACE.sub(" ", html.escape(text[pos:start], quote=False)))
        out.append("<mark>" + html.escape(text[start:end], quote=False) + "</mark>")
        pos = end
    out.append(_SPACE.sub(" ", html.escape(text[pos:], quote=False)))
    return "".join(out).strip()


def best_window(spans, size):
    """The start of the ``size``-character window with the most distinct matches.

    One pass with two pointers over the spans (sorted by start).
    """
    best, best_start = (0, 0), 0
    counts, distinct, right = {}, 0, 0
    for left, (start, _, _) in enumerate(spans):
        while right < len(spans) and spans[right][1] <= start + size:
            key = spans[right][2]
            counts[key] = counts.get(key, 0) + 1
            distinct += counts[key] == 1
            right += 1
        score = (distinct, right - left)
        if score > best:
            best, best_start = score, start
        if right > left:  # the left span leaves the window
            key = spans[left][2]
            counts[key] -= 1
            distinct -= counts[key] == 0
        else:
            right = left + 1
    return best_start


def highlight(text, match, hints, size=220):
    """The best ``size``-character snippet of ``text``, matches in ``<mark>``.

    The window with the most distinct matched words wins, starting a little
    before the first of them; cuts fall on word boundaries and show "…".  With no
    match the snippet is the text's beginning; ``size=None`` returns all of it.
    Only the first :data:`SCAN_CHARS` characters are searched for matches.
    """
    if size is None:
        return mark(text, find_matches(text, match, hints))
    text = text[:SCAN_CHARS].strip()
    if len(text) <= size:
        return mark(text, find_matches(text, match, hints))
    spans = find_matches(text, match, hints)
    start = max(0, best_window(spans, size) - size // 4) if spans else 0
    if start:
        cut = _last_space(text, 0, start + 1)
        start = cut + 1 if cut >= 0 and start - cut < 30 else start
    end = min(len(text), start + size)
    if end < len(text):
        cut = _last_space(text, start, end)
        end = cut if cut > start + size // 2 else end
    inside = [(s - start, e - start, k) for s, e, k in spans if s >= start and e <= end]
    return ("…" if start else "") + mark(text[start:end], inside) + ("…" if end < len(text) else "")


def _last_space(text, start, end):
    """The index of the last space or line break in ``text[start:end]``, or -1."""
    return max(text.rfind(" ", start, end), text.rfind("\n", start, end))
