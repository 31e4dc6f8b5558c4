"""One webhook attempt: build the signed request, send it through the guard, classify.

This module and ``destination`` (the SSRF guard, checked where the socket connects) are the only
ones that call httpx; its exceptions become ``WebhookError`` here. The decisions are pure
functions (``build_request``, ``classify``, ``parse_retry_after``) tested on their own;
``WebhookSender`` is the thin I/O around them.

Outcomes: 2xx delivered; 5xx, 429, timeouts and connection errors retriable; 410 gone (the
subscriber is disabled); any other 4xx, and 3xx since redirects are not followed, failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import httpx
import msgspec

from monitor.alert import Alert
from monitor.deliver.destination import (
    DestinationError,
    GuardedTransport,
    Resolver,
    check_url,
    resolve_host,
)
from monitor.deliver.observer import AttemptOutcome
from monitor.deliver.retry import RETRY_AFTER_CAP
from monitor.deliver.signing import signed_headers
from monitor.deliver.subscriptions import Subscription
from monitor.errors import WebhookError
from monitor.settings import Settings

log = logging.getLogger(__name__)

EventType = Literal["alert.new", "alert.update"]

USER_AGENT = "monitor-webhooks/1"


class Envelope(msgspec.Struct, frozen=True):
    """The JSON body of every webhook."""

    type: EventType
    timestamp: datetime
    data: Alert


_encoder = msgspec.json.Encoder()


def webhook_id(subscriber_id: str, alert_id: str) -> str:
    """The ``webhook-id``: the same for one alert to one subscriber across retries and restarts."""
    digest = hashlib.sha256(f"{subscriber_id}\x1f{alert_id}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


@dataclass(frozen=True)
class PreparedWebhook:
    """Everything but the per-attempt headers (timestamp and signature)."""

    subscriber: Subscription
    msg_id: str
    body: bytes
    alert: Alert


def build_request(subscription: Subscription, alert: Alert) -> PreparedWebhook:
    """The body is fixed per alert (its ``timestamp`` is the alert's ``created_at``)."""
    envelope = Envelope(
        type="alert.new" if alert.status == "new" else "alert.update",
        timestamp=alert.created_at,
        data=alert,
    )
    return PreparedWebhook(
        subscription, webhook_id(subscription.id, alert.alert_id), _encoder.encode(envelope), alert
    )


@dataclass(frozen=True)
class AttemptResult:
    """How one attempt ended. ``error`` is set unless it was delivered."""

    outcome: AttemptOutcome
    status: int | None = None
    retry_after: float | None = None
    error: WebhookError | None = None

    @property
    def retriable(self) -> bool:
        return self.outcome == "retriable"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def classify(
    endpoint: str, status: int, headers: Mapping[str, str], now: datetime
) -> AttemptResult:
    """Turn a response status (and its Retry-After) into an outcome."""
    if 200 <= status < 300:
        return AttemptResult("delivered", status)
    retry_after = parse_retry_after(headers.get("retry-after"), now)
    if status >= 500 or status in (408, 429):
        error = WebhookError(endpoint, status, f"HTTP {status}", retriable=True)
        return AttemptResult("retriable", status, retry_after, error)
    if status == 410:
        error = WebhookError(endpoint, status, "HTTP 410 Gone: disabling", retriable=False)
        return AttemptResult("gone", status, None, error)
    detail = " (redirects are not followed)" if 300 <= status < 400 else ""
    error = WebhookError(endpoint, status, f"HTTP {status}{detail}", retriable=False)
    return AttemptResult("failed", status, None, error)


MAX_RESPONSE_BODY = 64 * 1024
"""Bytes of a receiver's answer read and thrown away, so its connection goes back to the pool."""


async def _drain(response: httpx.Response) -> None:
    """Read a short answer to its end (the connection is then kept alive for the next webhook);
    stop at ``MAX_RESPONSE_BODY``, and the connection is closed instead: a receiver cannot make
    us buffer anything."""
    if response.is_stream_consumed:  # an in-memory answer (a test transport)
        return
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > MAX_RESPONSE_BODY:
            return


class WebhookSender:
    """Sends prepared webhooks with one shared ``httpx.AsyncClient``. ``stop()`` is idempotent.

    Its connections go through ``GuardedTransport``: each new one resolves the host with
    ``resolve`` and connects only to addresses that passed the SSRF check. ``verify`` replaces
    certifi's CAs (a private CA, a test's). A ``transport`` replaces the network as a whole (an
    ``httpx.MockTransport`` in a test), the address check with it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: Resolver = resolve_host,
        verify: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._client = httpx.AsyncClient(
            transport=transport
            if transport is not None
            else GuardedTransport(
                allow_hosts=settings.webhook_allow_hosts, resolve=resolve, verify=verify
            ),
            timeout=httpx.Timeout(
                settings.webhook_timeout, connect=settings.webhook_connect_timeout
            ),
            follow_redirects=False,
            trust_env=False,  # no proxies from the environment: the SSRF guard must see the peer
            headers={"user-agent": USER_AGENT, "content-type": "application/json"},
        )

    async def stop(self) -> None:
        await self._client.aclose()

    async def send(self, request: PreparedWebhook) -> AttemptResult:
        """One attempt, bounded by ``webhook_timeout`` in total. Never raises for HTTP trouble.

        ``refused`` when the guard refused the destination (nothing was sent).
        """
        sub = request.subscriber
        try:
            check_url(sub.url, allow_http=sub.allow_http or self._settings.webhook_allow_http)
        except DestinationError as exc:
            return _refused(sub.id, exc)
        timestamp = int(self._clock())
        headers = signed_headers(request.msg_id, timestamp, request.body, sub.secrets)
        try:
            async with asyncio.timeout(self._settings.webhook_timeout):
                async with self._client.stream(
                    "POST", sub.url, content=request.body, headers=headers
                ) as response:
                    status = response.status_code
                    response_headers = dict(response.headers)
                    await _drain(response)
        except DestinationError as exc:  # raised by the guard when it connects
            return _refused(sub.id, exc)
        except TimeoutError as exc:
            error = WebhookError(sub.id, None, "timed out", retriable=True)
            error.__cause__ = exc
            return AttemptResult("retriable", None, None, error)
        except httpx.TimeoutException as exc:
            error = WebhookError(sub.id, None, f"timed out ({type(exc).__name__})", retriable=True)
            error.__cause__ = exc
            return AttemptResult("retriable", None, None, error)
        except httpx.HTTPError as exc:
            error = WebhookError(sub.id, None, f"{type(exc).__name__}: {exc}", retriable=True)
            error.__cause__ = exc
            return AttemptResult("retriable", None, None, error)
        now = datetime.fromtimestamp(self._clock(), UTC)
        return classify(sub.id, status, response_headers, now)


def _refused(endpoint: str, exc: DestinationError) -> AttemptResult:
    """The guard said no (``refused``), or the host does not resolve now (``retriable``)."""
    error = WebhookError(endpoint, None, str(exc), retriable=exc.retriable)
    error.__cause__ = exc
    return AttemptResult("retriable" if exc.retriable else "refused", None, None, error)
