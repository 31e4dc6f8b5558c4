"""The dead-letter record of a webhook that could not be delivered (``alerts.webhook-dlq``).

JSON, keyed by the alert's ``story_id``, with the subscriber id in a header so ``monitor webhooks
replay`` can pick one subscriber's letters without decoding the others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from monitor.alert import Alert

DeadLetterReason = Literal["exhausted", "rejected", "gone", "disabled", "refused"]
HEADER_SUBSCRIBER = "subscriber"
HEADER_WEBHOOK_ID = "webhook-id"
HEADER_REASON = "reason"


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """One alert that one subscriber did not get, with the story of the attempts."""

    subscriber_id: str
    webhook_id: str
    reason: DeadLetterReason
    attempts: int
    last_status: int | None = None
    last_error: str | None = None
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    dead_lettered_at: datetime
    alert: Alert

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (HEADER_SUBSCRIBER, self.subscriber_id.encode()),
            (HEADER_WEBHOOK_ID, self.webhook_id.encode()),
            (HEADER_REASON, self.reason.encode()),
        ]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(DeadLetter)


def encode_dead_letter(letter: DeadLetter) -> bytes:
    return _encoder.encode(letter)


def decode_dead_letter(raw: bytes) -> DeadLetter:
    """Raises ``msgspec.DecodeError`` (or its ``ValidationError``) on a malformed record."""
    return _decoder.decode(raw)
