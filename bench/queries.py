"""The benchmark's queries, generated deterministically from the corpus.

Three kinds of query, each a fixed list for a given corpus, seed and size, so two
runs (or two versions of kb) are measured on the very same queries:

* **search-box queries** (:class:`SearchBoxPool`): what visitors type into a
  site's search box, 1-3 words taken from article titles and FAQ questions, and
  search-as-you-type prefixes (the last word cut to 3-6 letters: ``diab``,
  ``celiac dis``).  The pool yields distinct queries in a fixed order; the
  benchmark slices it into disjoint sets (measured, warm-up, one slice per
  uncached HTTP run), which is how caches are defeated.
* **long questions** (:func:`liveqa_questions`): the consumer questions of the
  TREC 2017 LiveQA medical task, whole (``queries.tsv``) and summarised
  (``queries.summary.tsv``).
* **a repeated-query mix** (:func:`zipf_sequence`): a Zipf-distributed sample
  over a list of queries, as a site's query log looks.

Nothing here imports kb: the stop words and the tokenizer are fixed below, so a
change to kb's analyzer never changes the queries.
"""

import random
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import yaml

#: The seed every generator here uses unless told otherwise.
SEED = 20261124

#: Words a visitor would not type into a search box (and template words of the
#: MedQuAD questions: "What is (are) ...", "How to diagnose ...").
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during
    each few for from further had has have having he her here hers him his how i if
    in into is it its itself just me more most my no nor not now of off on once only
    or other our out over own same she should so some such than that the their them
    then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours
    need needs know information""".split()
)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_TITLE_LINE = re.compile(r"^title:[ \t]*(.+)$", re.MULTILINE)
_FAQ_HEADINGS = {"frequently asked questions", "faq", "faqs"}


@dataclass
class CorpusText:
    """The titles and FAQ questions of a set of article files."""

    files: list
    titles: list
    questions: list


def article_files(corpus_dir, limit=None):
    """The corpus's ``*.md`` files in path order, the first ``limit`` of them."""
    files = sorted(Path(corpus_dir).rglob("*.md"))
    return files[:limit] if limit else files


def read_corpus_text(files):
    """Titles (front matter ``title:`` or the first ``# `` line) and FAQ questions.

    A light reading, not kb's parser: enough to take words from, and independent
    of kb's code.
    """
    titles, questions = [], []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        title, body = None, text
        if text.startswith("---"):
            end = text.find("\n---", 3)
            if end > 0:
                found = _TITLE_LINE.search(text, 3, end)
                if found:
                    try:  # only the title line: parsing whole front matters is slow
                        title = str(yaml.safe_load(found.group(1)) or "") or None
                    except yaml.YAMLError:
                        title = found.group(1).strip()
                body = text[end + 4 :]
        in_faq = False
        for line in body.splitlines():
            if line.startswith("# ") and title is None:
                title = line[2:].strip()
            elif line.startswith("## "):
                in_faq = line[3:].strip().lower() in _FAQ_HEADINGS
            elif line.startswith("### ") and in_faq:
                questions.append(line[4:].strip())
        if title:
            titles.append(title)
    return CorpusText(files=list(files), titles=titles, questions=questions)


def content_words(text):
    """The lower-cased words of ``text`` that a visitor might type."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


class SearchBoxPool:
    """Distinct search-box queries, in an order fixed by the corpus and the seed.

    Each query is drawn as: a source (an article title, a FAQ question, or either
    of them for a prefix query, one third each), then 1-3 consecutive content
    words of it (weights 4:4:2); a prefix query then cuts its last word to 3-6
    letters (a word too short to cut is drawn again).  A query is kept only if
    it differs from every earlier one in its *key*: each whole word cut to six
    letters, so "diabetes" and "diabetic" (one stem to a search engine) are not
    both used, which keeps a cache keyed on analysed terms from hitting either.

    :meth:`take` returns the next ``n`` queries; the i-th query is the same
    whatever sizes were taken before it.
    """

    #: Draws in a row that found nothing new before the corpus counts as used up.
    MAX_MISSES = 20_000

    def __init__(self, text, seed=SEED):
        self._titles = [w for w in (content_words(t) for t in text.titles) if w]
        self._questions = [w for w in (content_words(q) for q in text.questions) if w]
        if not self._titles and not self._questions:
            raise ValueError("the corpus has no titles or FAQ questions to take queries from")
        self._rng = random.Random(seed)
        self._seen = set()
        self.taken = 0

    def _draw(self):
        rng = self._rng
        kind = rng.randrange(3)
        sources = {0: self._titles, 1: self._questions}.get(kind) or rng.choice([self._titles, self._questions])
        sources = sources or self._titles or self._questions
        words = rng.choice(sources)
        k = min(rng.choices((1, 2, 3), weights=(4, 4, 2))[0], len(words))
        start = rng.randrange(len(words) - k + 1)
        phrase = words[start : start + k]
        if all(w.isdigit() or len(w) < 2 for w in phrase):
            return None
        if kind == 2:  # search-as-you-type: the last word is still being typed
            cut = rng.randint(3, 6)
            if len(phrase[-1]) <= cut:
                return None
            phrase = phrase[:-1] + [phrase[-1][:cut]]
            key = tuple(w[:6] for w in phrase[:-1]) + ("~" + phrase[-1],)
        else:
            key = tuple(w[:6] for w in phrase)
        if key in self._seen:
            return None
        self._seen.add(key)
        return " ".join(phrase)

    def take(self, n):
        """The next ``n`` distinct queries (fewer only if the corpus runs out)."""
        out, misses = [], 0
        while len(out) < n and misses < self.MAX_MISSES:
            q = self._draw()
            if q is None:
                misses += 1
                continue
            misses = 0
            out.append(q)
        self.taken += len(out)
        return out


def liveqa_questions(liveqa_dir, name="queries.tsv"):
    """The question texts of a LiveQA ``qid<TAB>text`` file, in file order."""
    out = []
    for line in (Path(liveqa_dir) / name).read_text(encoding="utf-8").splitlines():
        qid, _, text = line.partition("\t")
        if text.strip():
            out.append(text.strip())
    return out


def zipf_sequence(queries, n, s=1.1, seed=SEED):
    """``n`` queries drawn with probability proportional to ``1 / rank**s``.

    Ranks follow the order of ``queries`` (already random for a pool's slice).
    """
    rng = random.Random(seed + 1)
    cum, total = [], 0.0
    for rank in range(1, len(queries) + 1):
        total += rank**-s
        cum.append(total)
    return rng.choices(queries, cum_weights=cum, k=n)


def search_path(q, limit=10):
    """The request path of a search, as a browser would send it."""
    return "/search?" + urlencode({"q": q, "limit": limit})
