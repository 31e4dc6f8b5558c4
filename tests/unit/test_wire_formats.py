"""The wire formats: the article parser's verdicts, and the documented JSON Schemas in step."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import msgspec
import pytest

from monitor.alert import Alert, LanguageInfo, alert_id_for, decode_alert, encode_alert
from monitor.article import Article, parse_article
from monitor.errors import InvalidArticle

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"

GOOD = {
    "id": "a-1",
    "url": "https://example.org/a-1",
    "title": "Title",
    "text": "Text.",
    "source": "wire",
    "published_at": "2026-11-24T10:00:00Z",
}


def _raw(**changes: object) -> bytes:
    doc = {**GOOD, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"\xff\xfe{}", "not_utf8", id="invalid-utf8"),
        pytest.param(b"not json", "not_json", id="not-json"),
        pytest.param(b"", "not_json", id="empty-bytes"),
        pytest.param(b"[1, 2]", "invalid_schema", id="array"),
        pytest.param(_raw(url=...), "invalid_schema", id="missing-url"),
        pytest.param(_raw(title=3), "invalid_schema", id="title-not-string"),
        pytest.param(_raw(id=""), "invalid_schema", id="empty-id"),
        pytest.param(_raw(published_at="2026-11-24T10:00:00"), "invalid_schema", id="naive-time"),
        pytest.param(_raw(language="Dutch"), "invalid_schema", id="bad-language"),
        pytest.param(_raw(title="", text="  "), "empty", id="nothing-to-read"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "invalid_schema", id="deeply-nested"),
    ],
)
def test_invalid_articles_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidArticle) as caught:
        parse_article(raw)
    assert caught.value.reason == reason
    assert caught.value.detail


def test_size_limit_is_checked_before_decoding() -> None:
    with pytest.raises(InvalidArticle) as caught:
        parse_article(_raw(text="x" * 2000), max_bytes=1000)
    assert caught.value.reason == "too_large"


def test_valid_article_keeps_unknown_fields_out_and_offsets_honest() -> None:
    article = parse_article(_raw(extra="ignored", language="nl"))
    assert article == Article(
        id="a-1",
        url="https://example.org/a-1",
        title="Title",
        text="Text.",
        source="wire",
        published_at=datetime(2026, 11, 24, 10, tzinfo=UTC),
        language="nl",
    )
    assert article.body.index("Text.") == len("Title\n\n")


@pytest.mark.parametrize(
    ("struct", "name"), [pytest.param(Article, "article"), pytest.param(Alert, "alert")]
)
def test_documented_schema_is_generated_from_the_struct(struct: type, name: str) -> None:
    documented = json.loads((DOCS / f"{name}.schema.json").read_text())
    generated = json.loads(msgspec.json.encode(msgspec.json.schema(struct)))
    assert documented == generated, (
        f"docs/schemas/{name}.schema.json is stale: run `monitor schema {name}` to regenerate it"
    )


def test_an_alert_round_trips_and_validates_against_its_documented_schema() -> None:
    now = datetime(2026, 11, 24, 10, tzinfo=UTC)
    alert = Alert(
        alert_id=alert_id_for("government_dismissal", "a-1"),
        rule_id="government_dismissal",
        rule_title="Government dismissed",
        severity="high",
        story_id="st_1",
        article_id="a-1",
        article_url="https://example.org/a-1",
        article_title="Title",
        source="wire",
        published_at=now,
        language=LanguageInfo(code="nl", confidence=0.98),
        evidence=(),
        created_at=now,
    )
    raw = encode_alert(alert)
    assert decode_alert(raw) == alert
    jsonschema.validate(json.loads(raw), json.loads((DOCS / "alert.schema.json").read_text()))
    assert alert.alert_id == alert_id_for("government_dismissal", "a-1")
    assert alert.alert_id != alert_id_for("government_dismissal", "a-2")
