"""The alert wire format: what the ``alerts`` topic carries and what webhooks deliver as ``data``.

Documented as JSON Schema in ``docs/schemas/alert.schema.json`` (generated from ``Alert``; a test
keeps them in step). ``schema_version`` changes on any incompatible change.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

import msgspec

SCHEMA_VERSION = "1"

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
Status = Literal["new", "update"]


class Span(msgspec.Struct, frozen=True):
    """A character range ``[start, end)`` into the article body (title, blank line, text)."""

    start: int
    end: int


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """One matched term: what the rule looked for, what the text said, and where."""

    group: str
    term: str
    surface: str
    span: Span
    sentence: str
    sentence_span: Span


class LanguageInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Detected language, the producer's declared one, and whether they agree."""

    code: str
    confidence: float
    declared: str | None = None
    agrees: bool | None = None


class Mention(msgspec.Struct, frozen=True):
    """A surface form found in the text."""

    surface: str
    span: Span


class Country(msgspec.Struct, frozen=True, kw_only=True):
    """An ISO 3166-1 alpha-2 country and how the text names it; ``roles`` among location/actor."""

    code: str
    name: str
    roles: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()


class Organisation(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation from the alias table (``key`` is stable across languages)."""

    key: str
    name: str
    mentions: tuple[Mention, ...] = ()


PersonStatus = Literal["new", "former", "dismissed"]


class Person(msgspec.Struct, frozen=True, kw_only=True):
    """A person introduced by a role; spelling variants grouped under one ``key``.

    ``status`` is what the text says about their hold on the role: ``new`` (*the new prime
    minister*), ``former`` (*ex-premier*) or ``dismissed`` (*the government of X was sacked*).
    """

    key: str
    name: str
    role: str | None = None
    status: PersonStatus | None = None
    country: str | None = None
    mentions: tuple[Mention, ...] = ()


class Entities(msgspec.Struct, frozen=True, kw_only=True):
    """Who and where."""

    countries: tuple[Country, ...] = ()
    organisations: tuple[Organisation, ...] = ()
    people: tuple[Person, ...] = ()


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """A number and what it counts (``kind`` among deaths, injured, arrests, troops, vehicles)."""

    kind: str
    value: int
    qualifier: str | None = None
    surface: str
    span: Span
    sentence: str


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """One rule firing on one article, enriched, with its place in a story."""

    schema_version: str = SCHEMA_VERSION
    alert_id: str
    rule_id: str
    rule_title: str
    event_code: str | None = None
    tags: tuple[str, ...] = ()
    severity: Severity
    severity_reasons: tuple[str, ...] = ()
    status: Status = "new"
    story_id: str
    story_sources: int = 1
    article_id: str
    article_url: str
    article_title: str
    source: str
    published_at: datetime
    language: LanguageInfo
    evidence: tuple[Evidence, ...]
    entities: Entities = msgspec.field(default_factory=Entities)
    figures: tuple[Figure, ...] = ()
    created_at: datetime


def alert_id_for(rule_id: str, article_id: str) -> str:
    """Deterministic: the same rule on the same article is the same alert, on any worker."""
    digest = hashlib.sha256(f"{rule_id}\x1f{article_id}".encode()).hexdigest()
    return f"al_{digest[:24]}"


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Alert)


def encode_alert(alert: Alert) -> bytes:
    return _encoder.encode(alert)


def decode_alert(raw: bytes) -> Alert:
    return _decoder.decode(raw)
