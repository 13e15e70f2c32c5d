"""What of a document is embedded: one definition for the indexer and the benchmark."""

#: The text choices measured by ``bench/semantic_eval.py``.
TEXT_CHOICES = ("title", "title+answer")
#: Characters of body text kept for ``title+answer``: more than the model's
#: token limit reads, so the tokenizer, not this cut, decides where it ends.
BODY_CHARS = 2000


def document_text(title, body, how="title+answer"):
    """The text embedded for a document.

    :param title: an article's title or a FAQ entry's question.
    :param body: its text (for an article, the lead or whole text).
    :param how: ``title`` (the title or question alone) or ``title+answer``
        (the title, then the start of the body).

    >>> document_text("What is IVF?", "In vitro fertilisation is ...", "title")
    'What is IVF?'
    """
    if how == "title":
        return title
    if how == "title+answer":
        return f"{title}\n{body[:BODY_CHARS]}" if body else title
    raise ValueError(f"unknown text choice {how!r}; one of {', '.join(TEXT_CHOICES)}")


def content_key(text):
    """The cache key of an embedded text: its sha256 (hex)."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()
