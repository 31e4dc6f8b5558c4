"""Standard Webhooks signatures (https://www.standardwebhooks.com, the scheme Svix uses).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature is the base64 of
its HMAC-SHA256 under the secret's key, sent as ``v1,<base64>``. During a secret rotation several
signatures are sent, space-separated, and a receiver accepts the request if any one matches.
Secrets are written ``whsec_<base64 key>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Final, final

from monitor.errors import SignatureError

HEADER_ID: Final = "webhook-id"
HEADER_TIMESTAMP: Final = "webhook-timestamp"
HEADER_SIGNATURE: Final = "webhook-signature"
SECRET_PREFIX: Final = "whsec_"
VERSION: Final = "v1"
DEFAULT_TOLERANCE: Final = 300.0
"""Seconds a timestamp may be away from the receiver's clock (the spec suggests 5 minutes)."""

MIN_KEY_BYTES: Final = 24


@final
class Secret:
    """A signing secret. Its value never shows in ``repr``/``str``, so it cannot leak into logs."""

    __slots__ = ("_key",)

    def __init__(self, value: str) -> None:
        """Parse ``whsec_<base64>`` (the prefix is optional); ``ValueError`` says what is wrong."""
        encoded = value.strip().removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("secret is not valid base64 after 'whsec_'") from exc
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"secret key is {len(key)} bytes, needs at least {MIN_KEY_BYTES}")
        self._key = key

    @classmethod
    def from_key(cls, key: bytes) -> Secret:
        return cls(SECRET_PREFIX + base64.b64encode(key).decode("ascii"))

    def reveal(self) -> bytes:
        """The raw HMAC key. Only signing code calls this."""
        return self._key

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(hashlib.sha256(self._key).digest())


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(msg_id: str, timestamp: int, body: bytes, secrets: Iterable[Secret]) -> str:
    """The ``webhook-signature`` value: one ``v1,<base64>`` per secret, space-separated."""
    parts = [f"{VERSION},{_signature(s.reveal(), msg_id, timestamp, body)}" for s in secrets]
    if not parts:
        raise ValueError("sign() needs at least one secret")
    return " ".join(parts)


def signed_headers(
    msg_id: str, timestamp: int, body: bytes, secrets: Iterable[Secret]
) -> dict[str, str]:
    """The three ``webhook-*`` headers of one attempt."""
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(msg_id, timestamp, body, secrets),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Iterable[Secret],
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> str:
    """Check a received request; return its ``webhook-id`` or raise ``SignatureError``.

    ``headers`` must be looked up case-insensitively by the caller's mapping (aiohttp's and httpx's
    are) or use lower-case names.
    """
    msg_id = headers.get(HEADER_ID)
    raw_timestamp = headers.get(HEADER_TIMESTAMP)
    raw_signatures = headers.get(HEADER_SIGNATURE)
    if not msg_id or not raw_timestamp or not raw_signatures:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise SignatureError(f"webhook-timestamp is not an integer: {raw_timestamp!r}") from exc
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"webhook-timestamp {timestamp} is outside the tolerance")
    received = []
    for part in raw_signatures.split(" "):
        version, _, value = part.partition(",")
        if version == VERSION and value:
            received.append(value.encode("ascii", errors="replace"))
    for secret in secrets:
        expected = _signature(secret.reveal(), msg_id, timestamp, body).encode("ascii")
        if any(hmac.compare_digest(expected, candidate) for candidate in received):
            return msg_id
    raise SignatureError("no signature matches")
