"""The staff-editable synonyms file: lay words, abbreviations, other names.

``articles/synonyms.txt``, one group per line::

    # two-way: a query for any of these also finds the others
    high blood pressure, hypertension
    # one-way: a query for the left side also finds the right side, not back
    pregnancy loss => miscarriage

Phrases may have several words.  Blank lines and ``#`` comments are ignored.
A matched synonym ranks below the visitor's own words.
Each article's ``synonyms:`` front matter adds one-way groups too: its other
names lead to its title.
"""

from collections import defaultdict

from .errors import ArticleProblem

FILE_NAME = "synonyms.txt"


class SynonymProblem(ArticleProblem):
    """A line of the synonyms file that cannot be used (``path:line: ...``)."""


def parse_synonyms(text, path=FILE_NAME):
    """Parse the synonyms file into ``[(sources, targets)]`` phrase lists.

    Two-way groups become ``(group, group)``.

    :returns: ``(groups, problems)``; a bad line is reported and skipped.
    """
    groups, problems = [], []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("=>") > 1:
            problems.append(SynonymProblem(path, n, "more than one '=>' on a line"))
            continue
        if any("," in side and not all(p.strip() for p in side.split(",")) for side in line.split("=>")):
            problems.append(
                SynonymProblem(path, n, "an empty phrase: two commas with nothing between, or a comma at an end")
            )
            continue
        if "=>" in line:
            left, right = (_phrases(side) for side in line.split("=>"))
            if not left or not right:
                problems.append(SynonymProblem(path, n, "'=>' needs phrases on both sides"))
                continue
            groups.append((left, right))
        else:
            group = _phrases(line)
            if len(group) < 2:
                problems.append(SynonymProblem(path, n, "a group needs two or more phrases separated by commas"))
                continue
            groups.append((group, group))
    return groups, problems


def _phrases(text):
    return [p.strip() for p in text.split(",") if p.strip()]


class SynonymTable:
    """Analysed synonyms: a tuple of query terms -> alternative term tuples.

    :param groups: ``[(sources, targets)]`` phrase lists (see :func:`parse_synonyms`).
    :param analyze: ``analyze(phrase) -> [terms]``.
    """

    def __init__(self, groups, analyze):
        table = defaultdict(set)
        for sources, targets in groups:
            target_terms = [tuple(analyze(t)) for t in targets]
            for source in sources:
                key = tuple(analyze(source))
                if not key:
                    continue
                for alt in target_terms:
                    if alt and alt != key:
                        table[key].add(alt)
        self._table = {k: sorted(v) for k, v in table.items()}
        self.longest = max((len(k) for k in self._table), default=0)

    def __len__(self):
        return len(self._table)

    def matches(self, terms):
        """``[(start, end, alternatives)]`` for every synonym phrase in ``terms``.

        >>> t = SynonymTable([(["high blood pressure", "hypertension"],) * 2], str.split)
        >>> t.matches(["treat", "high", "blood", "pressure"])
        [(1, 4, [('hypertension',)])]
        """
        found = []
        for start in range(len(terms)):
            for end in range(min(len(terms), start + self.longest), start, -1):
                alts = self._table.get(tuple(terms[start:end]))
                if alts:
                    found.append((start, end, alts))
                    break
        return found
