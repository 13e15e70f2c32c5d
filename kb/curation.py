"""The staff-editable curation file: pin, hide and notices for given queries.

``articles/curation.yaml`` is a YAML list of rules::

    - name: heavy bleeding                  # named by explain; default "line N"
      phrase: heavy bleeding                # or  words: bleeding pregnancy
      pin: [urgent-care]                    # ids (slug or slug#anchor) at positions 1, 2, ...
      hide: [old-leaflet]                   # a slug hides the article and all its entries
      notice:
        text: If you are bleeding heavily or in severe pain, call 999 or go to the emergency department.
        link: /articles/urgent-care         # optional
      from: 2026-01-01                      # optional, inclusive
      until: 2026-12-31                     # optional, inclusive

A ``pin`` item may also be ``{id: urgent-care, position: 3}``.  ``phrase``
matches when the query holds its words next to each other, in order;
``words`` when the query holds all of them, anywhere.  Both are compared
after kb's normalisation (stop words dropped, stemming) and typo correction
(:mod:`kb.search.curate`).  A bad rule is reported as ``path:line: what is
wrong`` and skipped; the other rules still apply.
"""

import datetime

import yaml

from .errors import ArticleProblem
from .urls import safe_url

FILE_NAME = "curation.yaml"
KEYS = {"name", "phrase", "words", "pin", "hide", "notice", "from", "until"}
MAX_PINS = 50


class CurationProblem(ArticleProblem):
    """A rule of the curation file that cannot be used (``path:line: ...``)."""


class _Bad(Exception):
    def __init__(self, node, message):
        super().__init__(message)
        self.line = node.start_mark.line + 1


def parse_curation(text, path=FILE_NAME):
    """Parse the curation file into plain rules (JSON-ready dicts).

    :returns: ``(rules, problems)``; a bad rule is reported and skipped.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        return [], [CurationProblem(path, line, f"not valid YAML: {getattr(e, 'problem', None) or e}")]
    if root is None:
        return [], []
    if not isinstance(root, yaml.SequenceNode):
        return [], [
            CurationProblem(path, root.start_mark.line + 1, "the file must be a list of rules ('- phrase: ...')")
        ]
    rules, problems = [], []
    for node in root.value:
        try:
            rules.append(_rule(node))
        except _Bad as bad:
            problems.append(CurationProblem(path, bad.line, str(bad)))
    return rules, problems


def _rule(node):
    if not isinstance(node, yaml.MappingNode):
        raise _Bad(node, "a rule must be a mapping (phrase or words, and pin, hide or notice)")
    line = node.start_mark.line + 1
    fields = {}
    for key, value in node.value:
        name = _scalar(key, "a key")
        if name not in KEYS:
            raise _Bad(key, f"unknown key {name!r}; expected one of: {', '.join(sorted(KEYS))}")
        if name in fields:
            raise _Bad(key, f"{name!r} given twice")
        fields[name] = value
    rule = {"line": line, "name": _scalar(fields["name"], "name") if "name" in fields else f"line {line}"}
    if ("phrase" in fields) == ("words" in fields):
        raise _Bad(node, "a rule needs exactly one of 'phrase' or 'words'")
    how = "phrase" if "phrase" in fields else "words"
    value = fields[how]
    text = (
        " ".join(_scalar(v, how) for v in value.value) if isinstance(value, yaml.SequenceNode) else _scalar(value, how)
    )
    if not text.strip():
        raise _Bad(value, f"{how!r} is empty")
    rule["match"], rule["text"] = how, text
    if not {"pin", "hide", "notice"} & fields.keys():
        raise _Bad(node, "a rule needs 'pin', 'hide' or 'notice' (it would do nothing)")
    rule["pin"] = _pins(fields["pin"]) if "pin" in fields else []
    rule["hide"] = [_doc_id(v) for v in _items(fields["hide"], "hide")] if "hide" in fields else []
    rule["notice"] = _notice(fields["notice"]) if "notice" in fields else None
    for key in ("from", "until"):
        rule[key] = _date(fields[key], key) if key in fields else None
    if rule["from"] and rule["until"] and rule["from"] > rule["until"]:
        raise _Bad(fields["until"], f"'until' ({rule['until']}) is before 'from' ({rule['from']})")
    return rule


def _scalar(node, what):
    if not isinstance(node, yaml.ScalarNode):
        raise _Bad(node, f"{what} must be a single value, not a list or mapping")
    return str(node.value).strip()


def _items(node, what):
    return node.value if isinstance(node, yaml.SequenceNode) else [node]


def _doc_id(node):
    value = _scalar(node, "a document id")
    slug, _, anchor = value.partition("#")
    if not slug or "/" in slug or " " in value or ("#" in value and not anchor):
        raise _Bad(node, f"{value!r} is not a document id (slug or slug#anchor)")
    return value


def _pins(node):
    pins, taken = [], set()
    for n, item in enumerate(_items(node, "pin"), 1):
        if isinstance(item, yaml.MappingNode):
            parts = {_scalar(k, "a key"): v for k, v in item.value}
            if set(parts) - {"id", "position"} or "id" not in parts:
                raise _Bad(item, "a pin is an id, or a mapping with 'id' and optional 'position'")
            doc = _doc_id(parts["id"])
            position = _scalar(parts["position"], "position") if "position" in parts else str(n)
            if not position.isdigit() or not 1 <= int(position) <= MAX_PINS:
                raise _Bad(parts.get("position", item), f"position must be a whole number from 1 to {MAX_PINS}")
            position = int(position)
        else:
            doc, position = _doc_id(item), n
        if position in taken:
            raise _Bad(item, f"two documents pinned to position {position}")
        taken.add(position)
        pins.append([doc, position])
    if not pins:
        raise _Bad(node, "'pin' lists no document")
    return pins


def _notice(node):
    if isinstance(node, yaml.ScalarNode):
        fields = {"text": node}
    elif isinstance(node, yaml.MappingNode):
        fields = {_scalar(k, "a key"): v for k, v in node.value}
        extra = set(fields) - {"text", "link"}
        if extra:
            raise _Bad(node, f"unknown notice key {sorted(extra)[0]!r}; expected 'text' and optional 'link'")
    else:
        raise _Bad(node, "a notice is a text, or a mapping with 'text' and optional 'link'")
    if "text" not in fields or not _scalar(fields["text"], "notice text"):
        raise _Bad(node, "a notice needs a 'text'")
    link = _scalar(fields["link"], "notice link") if "link" in fields else None
    if link is not None and (not link or safe_url(link, {"http", "https"}) is None):
        raise _Bad(fields["link"], "a notice link must be a path like /articles/urgent-care or an http(s) URL")
    return {"text": _scalar(fields["text"], "notice text"), "link": link}


def _date(node, what):
    value = _scalar(node, what)
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise _Bad(node, f"{what!r} must be a date like 2026-01-31, not {value!r}") from None


def active(rule, today):
    """Whether ``rule`` applies on ``today`` (``from`` and ``until`` are inclusive)."""
    day = today.isoformat()
    return (rule.get("from") is None or rule["from"] <= day) and (rule.get("until") is None or day <= rule["until"])
