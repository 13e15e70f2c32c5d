"""Markdown articles with YAML front matter and a FAQ section, parsed into documents.

An article is a UTF-8 Markdown file::

    ---
    title: Recurrent Miscarriages
    slug: recurrent-miscarriages
    ---
    Lead paragraphs ...

    ## A section
    ...
    ## Frequently Asked Questions
    ### What is recurrent miscarriage?
    The answer ...

:func:`parse_article` turns one file into an :class:`Article`;
:func:`load_articles` reads a directory and reports every broken article as an
:class:`~kb.errors.ArticleProblem` (``path:line: what is wrong``) instead of
stopping.  :meth:`Article.documents` yields the searchable documents: one for the
article, one per ``##`` section outside the FAQ, one per question/answer pair,
each with a stable id and a deep link whose anchor is the one Python-Markdown's
``toc`` extension gives the heading, so a rendered page and a search result agree.
"""

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import markdown
import yaml
from markdown.extensions.toc import slugify, unique
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE

from .errors import ArticleProblem
from .urls import check_page_url, clean_links

#: The kinds of :class:`Document`, in the order an article yields them.
KINDS = ("article", "section", "faq")
FAQ_HEADINGS = {"frequently asked questions", "faq", "faqs"}
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# As Python-Markdown reads an ATX heading: no space is needed after the hashes.
_HEADING_RE = re.compile(r"^(#{1,6})(?!#)[ \t]*(.*?)[ \t]*#*[ \t]*$")
_FENCE_RE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_LIST_NUMBER = re.compile(r"^(\d+)([.)])(?=\s)")  # "1. " would start an ordered list
_BLOCK_MARK = re.compile(r"^([-*+](?=\s)|[>#])")  # "- ", "> ", "#" would start a block
_INLINE_MARKUP = re.compile(r"[*_`\[\]<>&\\!]")
MARKDOWN_EXTENSIONS = ["toc", "tables", "fenced_code", "sane_lists"]


@dataclass(frozen=True)
class Section:
    """A ``##`` section outside the FAQ: its heading, Markdown text and anchor."""

    heading: str
    anchor: str
    markdown: str
    line: int


@dataclass(frozen=True)
class FAQ:
    """One question (a ``###`` heading in the FAQ section) and its answer."""

    question: str
    anchor: str
    answer: str
    position: int
    line: int


@dataclass(frozen=True)
class Document:
    """One searchable unit: an article, a section or a FAQ entry."""

    id: str
    kind: str
    slug: str
    title: str
    article_title: str
    url: str
    anchor: str
    body: str
    summary: str = ""
    keywords: str = ""
    position: int = 0
    lead: str = ""  # an article's text before its first section


@dataclass(frozen=True)
class Article:
    """A parsed article."""

    path: str
    slug: str
    title: str
    url: str
    summary: str
    tags: tuple
    synonyms: tuple
    language: str
    lead: str
    sections: tuple
    faqs: tuple
    body: str
    meta: dict = field(default_factory=dict, compare=False)

    def documents(self):
        """Yield the article's :class:`Document` s: article, sections, FAQ entries.

        The article's ``body`` is its whole text; its ``lead`` the text before
        the first section (what the index holds for it besides its children).
        """
        base = self.url.split("#", 1)[0]
        lead = markdown_to_text(self.lead)
        sections = [(s, markdown_to_text(s.markdown)) for s in self.sections]
        faqs = [(f, markdown_to_text(f.answer)) for f in self.faqs]
        whole = (
            [lead] + [f"{s.heading}\n{text}" for s, text in sections] + [f"{f.question}\n{text}" for f, text in faqs]
        )
        yield Document(
            id=self.slug,
            kind="article",
            slug=self.slug,
            title=self.title,
            article_title=self.title,
            url=base,
            anchor="",
            body="\n".join(t for t in whole if t),
            summary=self.summary,
            keywords=" ".join(self.tags + self.synonyms),
            lead=lead,
        )
        for s, text in sections:
            yield Document(
                id=f"{self.slug}#{s.anchor}",
                kind="section",
                slug=self.slug,
                title=s.heading,
                article_title=self.title,
                url=f"{base}#{s.anchor}",
                anchor=s.anchor,
                body=text,
            )
        for f, text in faqs:
            yield Document(
                id=f"{self.slug}#{f.anchor}",
                kind="faq",
                slug=self.slug,
                title=f.question,
                article_title=self.title,
                url=f"{base}#{f.anchor}",
                anchor=f.anchor,
                body=text,
                position=f.position,
            )


def parse_article(path, text=None):
    """Parse one article file.

    :param path: the file's path (used in messages, and read if ``text`` is None).
    :param text: the file's content, str or bytes.
    :returns: an :class:`Article`.
    :raises ArticleProblem: with the line of the first thing that is wrong.
    """
    path = Path(path)
    if text is None:
        text = path.read_bytes()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = text[: e.start].count(b"\n") + 1
            raise ArticleProblem(path, line, "not valid UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, body, body_line = _split_front_matter(path, text)
    lines = body.split("\n")
    headings = _headings(lines)

    title = meta.get("title")
    if title is None:
        h1 = next((h for h in headings if h[1] == 1), None)
        title = h1[2] if h1 else None
    if not isinstance(title, str) or not title.strip():
        line = _key_line(text, "title") or 1
        raise ArticleProblem(path, line, "no title: add `title:` to the front matter")
    title = title.strip()

    slug = meta.get("slug", path.stem)
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise ArticleProblem(
            path,
            _key_line(text, "slug") or 1,
            f"slug {slug!r} must be lower-case letters, digits, '-' or '_'",
        )
    url = meta.get("url") or f"/articles/{slug}"
    if not isinstance(url, str):
        raise ArticleProblem(path, _key_line(text, "url") or 1, "url must be a string")
    wrong = check_page_url(url)
    if wrong:
        raise ArticleProblem(path, _key_line(text, "url") or 1, wrong)
    summary = meta.get("summary") or ""
    if not isinstance(summary, str):
        raise ArticleProblem(path, _key_line(text, "summary") or 1, "summary must be text")
    tags = _string_list(path, text, meta, "tags")
    synonyms = _string_list(path, text, meta, "synonyms")
    language = str(meta.get("language") or "en")

    lead, sections, faqs = _split_body(path, lines, headings, body_line)
    return Article(
        path=str(path),
        slug=slug,
        title=title,
        url=url,
        summary=summary.strip(),
        tags=tags,
        synonyms=synonyms,
        language=language,
        lead=lead,
        sections=sections,
        faqs=faqs,
        body=body,
        meta=meta,
    )


def load_articles(directory, paths=None):
    """Parse every ``*.md`` file under ``directory`` (sorted by path).

    :param paths: parse only these files instead (relative to ``directory``).
    :returns: ``(articles, problems)``; an article whose slug another file already
        uses is reported as a problem and left out.
    """
    directory = Path(directory)
    files = sorted(directory.rglob("*.md")) if paths is None else [directory / p for p in paths]
    articles, problems, seen = [], [], {}
    for file in files:
        try:
            article = parse_article(file)
        except ArticleProblem as problem:
            problems.append(problem)
            continue
        except OSError as e:
            problems.append(ArticleProblem(file, 1, f"cannot read: {e.strerror}"))
            continue
        if article.slug in seen:
            problems.append(duplicate_slug(article, seen[article.slug]))
            continue
        seen[article.slug] = article.path
        articles.append(article)
    return articles, problems


def duplicate_slug(article, other_path):
    """The problem for ``article`` whose slug ``other_path`` already uses."""
    line = _key_line(Path(article.path).read_text("utf-8", "replace"), "slug") or 1
    return ArticleProblem(article.path, line, f"duplicate slug {article.slug!r}: already used by {other_path}")


def render_html(article_markdown):
    """Render an article body to HTML whose heading ids match the search anchors.

    Raw HTML in articles is escaped, not passed through: an article containing
    ``<script>`` shows that text and never runs it.  Links and images keep only
    safe URLs (:func:`kb.urls.safe_url`): a ``javascript:`` link becomes text.
    """
    return _markdown().convert(article_markdown)


def _markdown():
    """Python-Markdown as kb renders articles: raw HTML is escaped, not passed on."""
    md = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS)
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_SafeLinks(md), "kb_safe_links", -100)  # last: every link is made by then
    return md


class _SafeLinks(Treeprocessor):
    """Remove ``href``/``src`` values that :func:`kb.urls.safe_url` refuses."""

    def run(self, root):
        clean_links(root, amp=AMP_SUBSTITUTE)


_md_inline = _markdown()
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def heading_text(raw):
    """The plain text of a heading's inline Markdown, as the toc extension sees it."""
    raw = raw.strip()
    if not _INLINE_MARKUP.search(raw):
        return raw
    # A heading's text is inline: escape what would make it a list or quote.
    inline = _BLOCK_MARK.sub(r"\\\1", _LIST_NUMBER.sub(r"\1\\\2", raw))
    rendered = _md_inline.reset().convert(inline)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


# (characters that must occur for the rule to apply, pattern, replacement)
_TEXT_RULES = [
    ("`~", re.compile(r"^[ \t]{0,3}(`{3,}|~{3,}).*$", re.M), ""),
    ("!", re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    ("[", re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    ("[", re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    ("[", re.compile(r"^[ \t]*\[[^\]]+\]:.*$", re.M), ""),
    ("<", re.compile(r"<[^>\n]+>"), " "),
    ("#", re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M), ""),
    (">", re.compile(r"^[ \t]*>[ \t]?", re.M), ""),
    ("-*+.)", re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", re.M), ""),
    ("|", re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.M), ""),
    ("|", re.compile(r"[ \t]*\|[ \t]*"), " "),
    ("*_", re.compile(r"(?<!\w)(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1(?!\w)"), r"\2"),
    ("`", re.compile(r"`+([^`]*)`+"), r"\1"),
    ("\\", re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])"), r"\1"),
    ("\t  ", re.compile(r"[ \t]{2,}|\t"), " "),
    ("\n", re.compile(r"\n{3,}"), "\n\n"),
]


def markdown_to_text(text):
    """Markdown to the plain text that is indexed and quoted in snippets.

    >>> markdown_to_text("Use **[HSG](https://x.org)** _now_.")
    'Use HSG now.'
    """
    for needed, pattern, repl in _TEXT_RULES:
        if any(c in text for c in needed):
            text = pattern.sub(repl, text)
    return (html.unescape(text) if "&" in text else text).strip()


def _split_front_matter(path, text):
    if not text.startswith("---\n"):
        return {}, text, 1
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.M)
    if end is None:
        raise ArticleProblem(path, 1, "front matter opened with '---' is never closed")
    raw = text[4 : 4 + end.start()]
    try:
        meta = yaml.load(raw, Loader=_YAML_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 2 if mark is not None else 2
        what = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ArticleProblem(path, line, f"front matter is not valid YAML: {what}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ArticleProblem(path, 2, "front matter must be YAML `key: value` lines")
    body_start = 4 + end.end() + 1
    body_line = text[:body_start].count("\n") + 1
    return meta, text[body_start:], body_line


def _key_line(text, key):
    m = re.search(rf"^{re.escape(key)}[ \t]*:", text, re.M)
    return text[: m.start()].count("\n") + 1 if m else None


def _string_list(path, text, meta, key):
    value = meta.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ArticleProblem(path, _key_line(text, key) or 1, f"{key} must be a list of words")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _headings(lines):
    """``[(index, level, text, anchor)]`` for the ATX headings outside code fences.

    Anchors are made as Python-Markdown's toc extension makes them: slugify the
    heading's text, then make it unique within the page (``-1``, ``_1`` ...).
    """
    found, used, fence = [], set(), None
    for i, line in enumerate(lines):
        m = _FENCE_RE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * len(m.group(1))
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        m = _HEADING_RE.match(line)
        if m:
            text = heading_text(m.group(2))
            anchor = unique(slugify(text, "-"), used)
            found.append((i, len(m.group(1)), text, anchor))
    return found


def _split_body(path, lines, headings, body_line):
    """Split the body into lead text, sections and FAQ entries."""
    top = [h for h in headings if h[1] <= 2]
    first = next((h[0] for h in top if h[1] == 2), len(lines))
    h1_lines = {h[0] for h in headings if h[1] == 1}
    lead = "\n".join(line for i, line in enumerate(lines[:first]) if i not in h1_lines).strip()
    sections, faqs = [], []
    for n, (start, level, text, anchor) in enumerate(top):
        end = top[n + 1][0] if n + 1 < len(top) else len(lines)
        if level == 1:
            continue
        if text.strip().lower() not in FAQ_HEADINGS:
            content = "\n".join(lines[start + 1 : end]).strip()
            sections.append(Section(text, anchor, content, body_line + start))
            continue
        questions = [h for h in headings if start < h[0] < end and h[1] == 3]
        for k, (qstart, _, question, qanchor) in enumerate(questions):
            qend = questions[k + 1][0] if k + 1 < len(questions) else end
            answer = "\n".join(lines[qstart + 1 : qend]).strip()
            if not markdown_to_text(answer):
                raise ArticleProblem(path, body_line + qstart, f"FAQ question {question!r} has an empty answer")
            faqs.append(FAQ(question, qanchor, answer, len(faqs) + 1, body_line + qstart))
    return lead, tuple(sections), tuple(faqs)
