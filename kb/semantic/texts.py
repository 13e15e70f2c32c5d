"""What of a document is embedded: one definition for the indexer and the benchmark."""

#: The text choices measured by ``bench/semantic_eval.py``.
TEXT_CHOICES = ("title", "title+answer")
#: What an indexed document's vector is made of, and how many word pieces of it:
#: on the development set, title+answer at 128 beat the title alone (question
#: 0.712 vs 0.591, seed 0.698 vs 0.694, ALL 0.699 vs 0.679; bench/README.md).
DOCUMENT_TEXT = "title+answer"
DOCUMENT_TOKENS = 128
#: Characters of body text kept for ``title+answer``: more than the model's
#: token limit reads, so the tokenizer, not this cut, decides where it ends.
BODY_CHARS = 2000


def document_text(title, body, how="title+answer"):
    """The text embedded for a document.

    :param title: an article's title or a FAQ entry's question.
    :param body: its text (for an article, its whole text: lead, sections, FAQ entries).
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


def indexed_text(fields, how=DOCUMENT_TEXT):
    """The embedded text of an index document, from its fields as written or as stored.

    An article's stored body is its whole text (lead, sections, FAQ entries).
    """
    return document_text(fields["title"], fields.get("_stored_body", fields.get("body")) or "", how)


def content_key(text):
    """The cache key of an embedded text: its sha256 (hex)."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()
