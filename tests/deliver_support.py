"""Shared by the delivery tests: alerts to deliver and an independent Standard Webhooks signer.

The signer is written from the specification text (standardwebhooks.com, "Signature scheme"), not
imported from ``monitor.deliver.signing``, so a mistake there cannot hide itself in the tests:
    signed content = "{msg_id}.{timestamp}.{payload}", HMAC-SHA256 with the base64-decoded part of
    the ``whsec_`` secret, base64-encoded, prefixed "v1,"; several are space-delimited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from monitor.alert import Alert, Country, Entities, Evidence, LanguageInfo, Span

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()


def spec_signatures(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.split("_", 1)[1])
    content = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def spec_verify(secret: str, headers: Any, body: bytes) -> bool:
    """True when one of the space-delimited ``v1`` signatures matches ``secret``."""
    expected = spec_signatures(
        secret, headers["webhook-id"], headers["webhook-timestamp"], body
    ).encode()
    return any(
        hmac.compare_digest(expected, part.encode())
        for part in headers["webhook-signature"].split(" ")
    )


def make_alert(
    n: int = 1,
    *,
    rule_id: str = "conflict.airstrike",
    severity: str = "high",
    status: str = "new",
    countries: tuple[str, ...] = ("UA",),
    language: str = "en",
    story_id: str | None = None,
) -> Alert:
    created = datetime(2026, 3, 1, 12, 0, n % 60, tzinfo=UTC)
    return Alert(
        alert_id=f"al_{n:024d}",
        rule_id=rule_id,
        rule_title="Airstrike",
        severity=severity,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        story_id=story_id or f"st_{n:06d}",
        article_id=f"ar_{n}",
        article_url=f"https://news.example/{n}",
        article_title=f"Airstrike number {n}",
        source="news.example",
        published_at=created,
        language=LanguageInfo(code=language, confidence=0.99),
        evidence=(
            Evidence(
                group="attack",
                term="airstrike",
                surface="Airstrike",
                span=Span(0, 9),
                sentence="Airstrike.",
                sentence_span=Span(0, 10),
            ),
        ),
        entities=Entities(countries=tuple(Country(code=c, name=c) for c in countries)),
        created_at=created,
    )
