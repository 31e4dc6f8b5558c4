"""The dead-letter record of an alert a subscriber did not get (``alerts.webhook-dlq``).

JSON, keyed by the alert's ``story_id``, with the subscriber id in a header so ``monitor webhooks
replay`` can pick one subscriber's letters without decoding the others.

Most letters carry the alert, so a replay can deliver it again. Two kinds do not:

- ``undecodable``: the record on the alerts topic was not an alert; ``raw`` keeps its bytes
  (base64 in the JSON) and ``webhook_id`` is None (there is no alert id to derive it from).
- a letter Kafka refused as too large is written again without its body (``body_dropped``):
  ``alert`` and ``raw`` are None, and ``partition``/``offset`` say where the alert still is on the
  alerts topic (until the topic's retention deletes it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from monitor.alert import Alert

DeadLetterReason = Literal[
    "exhausted", "rejected", "gone", "disabled", "refused", "undecodable", "processing_failed"
]
"""Why: retries used up; a 4xx/3xx; a 410; in flight when a 410 disabled the subscriber; the SSRF
guard refused the URL; not an alert; the delivery code raised on it (a bug, not the desk)."""
HEADER_SUBSCRIBER = "subscriber"
HEADER_WEBHOOK_ID = "webhook-id"
HEADER_REASON = "reason"


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """One alert that one subscriber did not get, with the story of the attempts."""

    subscriber_id: str
    webhook_id: str | None
    reason: DeadLetterReason
    attempts: int
    last_status: int | None = None
    last_error: str | None = None
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    dead_lettered_at: datetime
    alert: Alert | None
    raw: bytes | None = None
    """The record's bytes when it was not an alert (``undecodable``, some ``processing_failed``)."""
    partition: int | None = None
    offset: int | None = None
    """Where the record is on the alerts topic."""
    body_dropped: bool = False
    """Kafka refused the whole letter as too large: this one has neither ``alert`` nor ``raw``."""

    def headers(self) -> list[tuple[str, bytes]]:
        headers = [(HEADER_SUBSCRIBER, self.subscriber_id.encode())]
        if self.webhook_id is not None:
            headers.append((HEADER_WEBHOOK_ID, self.webhook_id.encode()))
        headers.append((HEADER_REASON, self.reason.encode()))
        return headers

    def key(self) -> bytes | None:
        """The record key: the alert's story, as on the alerts topic, when it is known."""
        return self.alert.story_id.encode() if self.alert is not None else None

    def without_body(self, why: str) -> DeadLetter:
        """This letter without ``alert`` and ``raw`` (what stays when Kafka refused its size)."""
        error = f"{self.last_error}; {why}" if self.last_error else why
        return msgspec.structs.replace(
            self, alert=None, raw=None, body_dropped=True, last_error=error
        )


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(DeadLetter)


def encode_dead_letter(letter: DeadLetter) -> bytes:
    return _encoder.encode(letter)


def decode_dead_letter(raw: bytes) -> DeadLetter:
    """Raises ``msgspec.DecodeError`` (or its ``ValidationError``) on a malformed record."""
    return _decoder.decode(raw)
