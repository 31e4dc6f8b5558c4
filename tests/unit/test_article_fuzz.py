"""Property-based tests of the article parser: whatever bytes arrive, a verdict with a known reason.

The parser is the one place where untrusted bytes from the articles topic become data. These
properties throw random bytes, broken UTF-8, text that is not JSON, JSON of every wrong shape,
deep nesting, control characters and huge fields at it, and check that the answer is always an
``Article`` or an ``InvalidArticle`` whose reason is the one a person would give.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.article import DEFAULT_MAX_BYTES, Article, parse_article
from monitor.errors import InvalidArticle

GOOD: dict[str, Any] = {
    "id": "a-1",
    "url": "https://example.org/a-1",
    "title": "Title",
    "text": "Text.",
    "source": "wire",
    "published_at": "2026-11-24T10:00:00Z",
}
REQUIRED = ("id", "url", "title", "text", "source", "published_at")

# Parsing a few MB takes milliseconds; a second per example means something hangs or goes quadratic.
# Generous on purpose: the machine is shared and noisy.
FAST = timedelta(seconds=2)
PROPERTY = settings(max_examples=150, deadline=FAST)
HEAVY = settings(
    max_examples=15,
    deadline=FAST,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _verdict(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article | InvalidArticle:
    """The parser's answer as a value; any other exception propagates and fails the property."""
    try:
        return parse_article(raw, max_bytes=max_bytes)
    except InvalidArticle as exc:
        return exc


def _reason(raw: bytes, **kwargs: int) -> str:
    verdict = _verdict(raw, **kwargs)
    assert isinstance(verdict, InvalidArticle), f"accepted {raw[:200]!r}: {verdict!r}"
    assert verdict.detail, "every verdict says what was wrong"
    return verdict.reason


def _article(**changes: Any) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


# -- strategies ------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# Byte sequences that are never valid UTF-8 wherever they stand: a stray continuation byte, bytes
# that never occur, overlong forms, an encoded surrogate, a code point above U+10FFFF, and a lead
# byte whose continuation is missing (it is followed by ASCII below).
invalid_utf8 = st.sampled_from(
    [b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xf5\x80\x80\x80", b"\xff", b"\xfe",
     b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xc3", b"\xf0\x9f\x98"]
)  # fmt: skip

control_chars = st.characters(
    # C0 and C1 controls, DEL, the Unicode line and paragraph separators, BOM, zero-width joiner.
    categories=["Cc", "Cf", "Zl", "Zp"],
)


def _wrong_type_for(field: str) -> st.SearchStrategy[Any]:
    """JSON values that are never valid for ``field`` (all fields are strings or a timestamp)."""
    not_strings = (
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    )
    containers = st.lists(json_values, max_size=3) | st.dictionaries(
        st.text(max_size=5), json_values, max_size=3
    )
    return not_strings | containers


# -- the catch-all property ------------------------------------------------------------------------


@PROPERTY
@given(st.binary(max_size=4096))
def test_any_bytes_get_an_article_or_a_known_reason(raw: bytes) -> None:
    """For arbitrary bytes the parser returns an Article or raises InvalidArticle with a reason
    from the fixed set, and answers within the deadline; no other exception escapes."""
    verdict = _verdict(raw)
    if isinstance(verdict, InvalidArticle):
        assert verdict.reason in InvalidArticle.REASONS
        assert verdict.detail
    else:
        assert isinstance(verdict, Article)


@PROPERTY
@given(st.lists(st.sampled_from(list(b'{}[]":,0123456789.eE+-truefalsnul \\"abc')), max_size=300))
def test_json_like_noise_gets_a_known_reason(alphabet_bytes: list[int]) -> None:
    """Bytes drawn from JSON's own alphabet (brackets, quotes, literals, numbers) reach deeper into
    the decoder than uniform noise; the verdict is still an Article or a known reason."""
    verdict = _verdict(bytes(alphabet_bytes))
    assert isinstance(verdict, Article) or verdict.reason in InvalidArticle.REASONS


# -- one reason per kind of damage -----------------------------------------------------------------


@PROPERTY
@given(st.text(max_size=200), invalid_utf8, st.text(string.printable, max_size=200))
def test_invalid_utf8_is_not_utf8_at_the_first_bad_byte(
    before: str, bad: bytes, after: str
) -> None:
    """Bytes that are not UTF-8 are ``not_utf8`` (never not_json), and the detail names the offset
    of the first bad byte, so an operator can find it in the dead letter."""
    head = before.encode()
    raw = head + bad + after.encode()
    verdict = _verdict(raw)
    assert isinstance(verdict, InvalidArticle)
    assert verdict.reason == "not_utf8"
    assert f"at byte {len(head)}" in verdict.detail


@PROPERTY
@given(st.text(max_size=300))
def test_utf8_text_that_is_not_json_is_not_json(text: str) -> None:
    """Valid UTF-8 that no JSON parser accepts is ``not_json``."""
    try:
        json.loads(text)
    except ValueError:
        pass
    else:
        return  # the rare draw that is JSON (a number, "true", ...) belongs to another property
    assert _reason(text.encode()) == "not_json"


@PROPERTY
@given(st.data())
def test_a_truncated_article_is_not_json(data: st.DataObject) -> None:
    """A good article cut anywhere before its closing brace (a producer that died mid-write) is
    ``not_json``."""
    raw = _article(text=data.draw(st.text(max_size=100), label="text"))
    cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
    assert _reason(raw[:cut]) == "not_json"


@PROPERTY
@given(st.text(string.ascii_letters + string.punctuation, min_size=1, max_size=20))
def test_trailing_garbage_after_an_article_is_not_json(garbage: str) -> None:
    """A good article followed by anything but whitespace (two records glued together) is
    ``not_json``."""
    assert _reason(_article() + garbage.encode()) == "not_json"


@PROPERTY
@given(json_values.filter(lambda v: not isinstance(v, dict)))
def test_json_that_is_not_an_object_is_invalid_schema(value: Any) -> None:
    """JSON arrays, numbers, strings, booleans and null are ``invalid_schema``: the bytes are JSON,
    the shape is wrong."""
    assert _reason(json.dumps(value).encode()) == "invalid_schema"


@PROPERTY
@given(
    st.sets(st.sampled_from(REQUIRED), min_size=1),
    st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in (*REQUIRED, "language")),
        json_values,
        max_size=3,
    ),
)
def test_an_object_missing_required_fields_is_invalid_schema(
    missing: set[str], noise: dict[str, Any]
) -> None:
    """An object without one or more required fields is ``invalid_schema``, whatever unknown fields
    it carries instead; the detail names a missing field."""
    doc = {k: v for k, v in {**noise, **GOOD}.items() if k not in missing}
    verdict = _verdict(json.dumps(doc).encode())
    assert isinstance(verdict, InvalidArticle)
    assert verdict.reason == "invalid_schema"
    assert any(f"`{field}`" in verdict.detail for field in missing)


@PROPERTY
@given(st.data())
def test_a_field_of_the_wrong_type_is_invalid_schema(data: st.DataObject) -> None:
    """Any required or optional field holding a number, boolean, null, list or object instead of a
    string is ``invalid_schema`` and the detail points at the field (``$.field``)."""
    field = data.draw(st.sampled_from([*REQUIRED, "language"]), label="field")
    value = data.draw(_wrong_type_for(field), label="value")
    if field == "language" and value is None:
        return  # null is the documented "unknown language"
    verdict = _verdict(_article(**{field: value}))
    assert isinstance(verdict, InvalidArticle)
    assert verdict.reason == "invalid_schema"
    assert f"$.{field}" in verdict.detail


@PROPERTY
@given(st.sampled_from(REQUIRED), st.sampled_from(["list", "object"]))
def test_a_field_wrapped_in_extra_nesting_is_invalid_schema(field: str, wrapper: str) -> None:
    """A right value one level too deep (``"title": ["..."]``, ``"text": {"value": "..."}``) is
    ``invalid_schema``, not silently unwrapped."""
    value = [GOOD[field]] if wrapper == "list" else {"value": GOOD[field]}
    assert _reason(_article(**{field: value})) == "invalid_schema"


@PROPERTY
@given(st.sampled_from(["list", "object"]))
def test_a_whole_article_wrapped_in_an_envelope_is_invalid_schema(wrapper: str) -> None:
    """A good article inside a list or an envelope object (``{"article": {...}}``) is
    ``invalid_schema``."""
    value: Any = [GOOD] if wrapper == "list" else {"article": GOOD}
    assert _reason(json.dumps(value).encode()) == "invalid_schema"


# -- deep nesting ----------------------------------------------------------------------------------

OPENERS: dict[str, tuple[bytes, bytes, bytes]] = {
    # name: (opener, innermost value, closer)
    "list": (b"[", b"1", b"]"),
    "object": (b'{"a":', b"1", b"}"),
}


def _nested(kind: str, depth: int, *, closed: bool = True) -> bytes:
    opener, inner, closer = OPENERS[kind]
    return opener * depth + (inner + closer * depth if closed else b"")


@HEAVY
@given(
    st.sampled_from(sorted(OPENERS)),
    st.integers(min_value=2_000, max_value=100_000),
    st.booleans(),
    st.sampled_from(["top", "unknown_field", "known_field"]),
)
def test_deeply_nested_json_gets_a_clean_reason_not_recursion_error(
    kind: str, depth: int, closed: bool, where: str
) -> None:
    """JSON nested thousands of levels deep, at the top, inside an unknown field (which the decoder
    skips) or inside a known one, closed or not, is ``invalid_schema`` or ``not_json``: never a
    ``RecursionError`` that would crash the stream."""
    nested = _nested(kind, depth, closed=closed)
    if where == "top":
        raw = nested
    else:
        field = b"extra" if where == "unknown_field" else b"text"
        raw = b'{"' + field + b'":' + nested + b', "id": "a-1"}'
    assert _reason(raw) in {"invalid_schema", "not_json"}


def test_100k_levels_inside_an_unknown_field_is_invalid_schema() -> None:
    """The worst case named in the issue, pinned: 100,000 levels of ``[`` inside a field the
    article does not know, otherwise a good article, is ``invalid_schema`` with a detail that
    says it is too deep."""
    doc = json.dumps({**GOOD, "extra": 0}).encode()
    raw = doc.replace(b'"extra": 0', b'"extra": ' + _nested("list", 100_000))
    verdict = _verdict(raw)
    assert isinstance(verdict, InvalidArticle)
    assert verdict.reason == "invalid_schema"
    assert "deep" in verdict.detail


@PROPERTY
@given(st.integers(min_value=1, max_value=50), st.sampled_from(sorted(OPENERS)))
def test_modest_nesting_in_unknown_fields_is_still_a_good_article(depth: int, kind: str) -> None:
    """Producers may add structured extras (tags, metadata); a few dozen levels inside an unknown
    field are skipped and the article is accepted."""
    doc = json.dumps({**GOOD, "extra": 0}).encode()
    raw = doc.replace(b'"extra": 0', b'"extra": ' + _nested(kind, depth))
    assert isinstance(_verdict(raw), Article)


# -- control characters ----------------------------------------------------------------------------


@PROPERTY
@given(
    st.sampled_from(["title", "text", "source", "url"]),
    st.text(control_chars, min_size=1, max_size=20),
    st.text(max_size=20),
)
def test_escaped_control_characters_survive_exactly(field: str, controls: str, rest: str) -> None:
    """Control characters written as JSON escapes (``\\u0000``, ``\\u001b``, ``\\u2028`` ...) are
    legal in a string field and come out exactly as sent, with the body offsets still honest."""
    value = "x" + controls + rest
    verdict = _verdict(_article(**{field: value}))
    assert isinstance(verdict, Article)
    assert getattr(verdict, field) == value
    assert verdict.body.index(verdict.text) == (len(verdict.title) + 2 if verdict.title else 0)


@PROPERTY
@given(st.sampled_from(["title", "text", "source"]), st.integers(0x00, 0x1F))
def test_raw_control_characters_inside_a_string_are_not_json(field: str, code: int) -> None:
    """A C0 control byte written raw (unescaped) inside a string is malformed JSON: ``not_json``."""
    raw = _article(**{field: "a\u2603b"}).replace("\u2603".encode("unicode_escape"), bytes([code]))
    assert _reason(raw) == "not_json"


whitespace = st.characters(categories=["Zs", "Zl", "Zp"]) | st.sampled_from(
    "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85"
)


@PROPERTY
@given(st.text(max_size=10), st.text(whitespace, min_size=1, max_size=5), st.text(max_size=10))
def test_an_id_with_any_whitespace_is_invalid_schema(before: str, space: str, after: str) -> None:
    """An id containing whitespace of any kind (tab, newline, no-break space, line separator, the
    C0 separators) is ``invalid_schema``: ids become Kafka keys and log fields."""
    assert _reason(_article(id=before + space + after)) == "invalid_schema"


@PROPERTY
@given(
    st.text(st.sampled_from(" \t\n\r\u00a0\u2003\u3000"), max_size=30),
    st.text(st.sampled_from(" \t\n\r"), max_size=30),
)
def test_whitespace_only_title_and_text_are_empty(title: str, text: str) -> None:
    """An article whose title and text are both blank is ``empty``: nothing to read."""
    assert _reason(_article(title=title, text=text)) == "empty"


# -- huge fields and huge messages -----------------------------------------------------------------

FIELD_LIMITS = {"id": 256, "url": 4096, "title": 1024, "source": 1024}


@HEAVY
@given(
    st.sampled_from(sorted(FIELD_LIMITS)),
    st.integers(1, 100_000),
    st.sampled_from(["a", "é", "語", "😀"]),
)
def test_bounded_fields_over_their_limit_are_invalid_schema(
    field: str, extra: int, char: str
) -> None:
    """``id``, ``url``, ``title`` and ``source`` over their documented lengths (counted in
    characters, whatever their UTF-8 width) are ``invalid_schema``, naming the field."""
    value = char * (FIELD_LIMITS[field] + extra)
    verdict = _verdict(_article(**{field: value}))
    assert isinstance(verdict, InvalidArticle)
    assert verdict.reason == "invalid_schema"
    assert f"$.{field}" in verdict.detail


@HEAVY
@given(
    st.integers(100_000, DEFAULT_MAX_BYTES - 1_000),
    st.sampled_from(["a ", "é", "語", "😀", "\u0000"]),
)
def test_a_huge_text_under_the_limit_is_a_good_article(size: int, chunk: str) -> None:
    """``text`` has no length limit of its own: a text of up to the message limit parses, in any
    script, and arrives whole."""
    width = len(json.dumps(chunk)) - 2  # escaped width on the wire, e.g. \u0000 is six bytes
    text = chunk * (size // width)
    raw = _article(text=text)
    assert len(raw) <= DEFAULT_MAX_BYTES
    verdict = _verdict(raw)
    assert isinstance(verdict, Article)
    assert verdict.text == text


class _Undecodable(bytes):
    """Bytes that fail the test if anything tries to decode them."""

    def decode(self, *args: Any, **kwargs: Any) -> str:
        raise AssertionError("an oversized message was decoded")


@HEAVY
@given(st.integers(1, 10 * 1024 * 1024), st.binary(min_size=1, max_size=64), st.integers(1, 4096))
def test_over_max_bytes_is_too_large_without_decoding(
    extra: int, filler: bytes, max_bytes: int
) -> None:
    """Anything longer than ``max_bytes`` (up to 10 MB over, valid or not, UTF-8 or not) is
    ``too_large``, decided from the length alone: the bytes are never decoded."""
    size = max_bytes + extra
    raw = _Undecodable((filler * (size // len(filler) + 1))[:size])
    verdict = _verdict(raw, max_bytes=max_bytes)
    assert isinstance(verdict, InvalidArticle)
    assert verdict.reason == "too_large"
    assert str(size) in verdict.detail and str(max_bytes) in verdict.detail


def test_a_10_mb_article_is_too_large_without_decoding() -> None:
    """A well-formed 10 MB article under the default 2 MiB limit is ``too_large`` and is never
    decoded (its bytes refuse to be)."""
    raw = _Undecodable(_article(text="x" * (10 * 1024 * 1024)))
    verdict = _verdict(raw)
    assert isinstance(verdict, InvalidArticle)
    assert verdict.reason == "too_large"


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda n: _article(text="x" * n), id="text"),
        pytest.param(lambda n: _article(extra="y" * n), id="unknown-field"),
    ],
)
def test_exactly_max_bytes_is_decoded(build: Callable[[int], bytes]) -> None:
    """The limit is inclusive: exactly ``max_bytes`` is parsed, one byte more is too_large."""
    base = len(build(0))
    raw = build(10_000 - base)
    assert len(raw) == 10_000
    assert isinstance(_verdict(raw, max_bytes=10_000), Article)
    assert _reason(build(10_001 - base), max_bytes=10_000) == "too_large"
