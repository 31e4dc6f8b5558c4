"""The article wire format and its parser: bytes in, an ``Article`` or ``InvalidArticle`` out.

The format is documented as JSON Schema in ``docs/schemas/article.schema.json`` (generated from the
``Article`` struct by ``monitor schema article``; a test keeps the two in step).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated

import msgspec

from monitor.errors import InvalidArticle

DEFAULT_MAX_BYTES = 2 * 1024 * 1024

# Patterns end in "(?![\s\S])", the end of the string in Python and in JSON Schema's dialect alike:
# Python's "$" also matches before a final newline, so "^\S+$" let the id "0\n" through.
_END = r"(?![\s\S])"
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern=r"^\S+" + _END)]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
Short = Annotated[str, msgspec.Meta(max_length=1024)]
LanguageCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}" + _END)]
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]


class Article(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """One news article as producers send it (JSON object, UTF-8)."""

    id: Id
    url: Url
    title: Short
    text: str
    source: Short
    published_at: Timestamp
    language: LanguageCode | None = None

    @property
    def body(self) -> str:
        """Title and text as the engine sees them: one string, title first, offsets into it."""
        return f"{self.title}\n\n{self.text}" if self.title else self.text


_decoder = msgspec.json.Decoder(Article)
_syntax = msgspec.json.Decoder(msgspec.Raw)
_TOO_DEEP = "JSON nested too deeply to decode"
_encoder = msgspec.json.Encoder()


def parse_article(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Decode one message value. Raises ``InvalidArticle`` with a reason from a fixed set."""
    if len(raw) > max_bytes:
        raise InvalidArticle("too_large", f"{len(raw)} bytes exceeds the limit of {max_bytes}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArticle("not_utf8", f"invalid UTF-8 at byte {exc.start}") from exc
    try:
        article = _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _schema_error(raw, str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise InvalidArticle("not_json", str(exc)) from exc
    except RecursionError as exc:
        # An unknown field nested past the interpreter's recursion limit (msgspec skips it
        # recursively). Not an article, and never an exception that would stop the stream.
        raise InvalidArticle("invalid_schema", _TOO_DEEP) from exc
    if not article.text.strip() and not article.title.strip():
        raise InvalidArticle("empty", "both title and text are empty")
    return article


def _schema_error(raw: bytes, problem: str) -> InvalidArticle:
    """``invalid_schema``, unless the bytes are not JSON at all.

    The typed decoder stops at the first value of the wrong type (``0:`` fails as "expected
    object, got int"), so whether the rest is JSON is still open; the ``Raw`` decoder checks the
    syntax of the whole message without building objects.
    """
    try:
        _syntax.decode(raw)
    except msgspec.DecodeError as exc:
        return InvalidArticle("not_json", str(exc))
    except RecursionError:
        return InvalidArticle("invalid_schema", f"{problem}; {_TOO_DEEP}")
    return InvalidArticle("invalid_schema", problem)


def encode_article(article: Article) -> bytes:
    """The wire form of an article (what ``monitor produce`` sends)."""
    return _encoder.encode(article)


def article_from_text(text: str, *, article_id: str, source: str = "file") -> Article:
    """Wrap a plain-text file as one article: all of it is the text, so offsets stay honest."""
    published = datetime.now().astimezone()
    return Article(
        id=article_id,
        url=f"file:{article_id}",
        title="",
        text=text,
        source=source,
        published_at=published,
    )


def is_json_lines(data: bytes) -> bool:
    """Whether a file's content is JSON-lines articles (else it is one plain-text article)."""
    return data.lstrip().startswith(b"{")


def article_from_file(data: bytes, stem: str) -> Article:
    """A plain-text file as one article; its id is stable for the same name and content."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    text = data.decode("utf-8", errors="replace")
    return article_from_text(text, article_id=f"{stem}-{digest}")
