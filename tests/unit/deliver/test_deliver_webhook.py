from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from monitor.deliver.receiver import Receiver
from monitor.deliver.signing import Secret
from monitor.deliver.subscriptions import Subscription
from monitor.deliver.webhook import (
    MAX_RESPONSE_BODY,
    AttemptResult,
    WebhookSender,
    build_request,
    parse_retry_after,
    webhook_id,
)
from monitor.errors import WebhookError
from monitor.settings import Settings
from tests.deliver_support import SECRET, make_alert, spec_verify

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SUB = Subscription(id="desk", url="https://desk.example/hooks", secrets=(Secret(SECRET),))


async def _send(
    handler: Callable[[httpx.Request], httpx.Response], subscription: Subscription = SUB
) -> tuple[AttemptResult, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    sender = WebhookSender(Settings.defaults(), transport=httpx.MockTransport(record))
    try:
        result = await sender.send(build_request(subscription, make_alert()))
    finally:
        await sender.stop()
    return result, seen


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "retry_after"),
    [
        pytest.param(200, {}, "delivered", None, id="200"),
        pytest.param(204, {}, "delivered", None, id="204"),
        pytest.param(500, {}, "retriable", None, id="500"),
        pytest.param(503, {"Retry-After": "7"}, "retriable", 7.0, id="503-retry-after"),
        pytest.param(429, {"Retry-After": "120"}, "retriable", 120.0, id="429"),
        pytest.param(408, {}, "retriable", None, id="408"),
        pytest.param(410, {}, "gone", None, id="410"),
        pytest.param(400, {}, "failed", None, id="400"),
        pytest.param(401, {}, "failed", None, id="401"),
        pytest.param(301, {"Location": "https://x/"}, "failed", None, id="301-not-followed"),
    ],
)
async def test_classification(
    status: int, headers: dict[str, str], outcome: str, retry_after: float | None
) -> None:
    result, seen = await _send(lambda r: httpx.Response(status, headers=headers))
    assert (result.outcome, result.status, result.retry_after) == (outcome, status, retry_after)
    assert len(seen) == 1  # never followed a redirect
    if outcome != "delivered":
        assert isinstance(result.error, WebhookError) and result.error.status == status
        assert result.error.retriable is (outcome == "retriable")


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(httpx.ConnectError("refused"), id="connect"),
        pytest.param(httpx.ReadTimeout("slow"), id="read-timeout"),
        pytest.param(httpx.ConnectTimeout("slow"), id="connect-timeout"),
        pytest.param(httpx.RemoteProtocolError("bad"), id="protocol"),
    ],
)
async def test_network_errors_are_retriable_webhook_errors(exc: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    result, _ = await _send(fail)
    assert result.outcome == "retriable" and result.status is None
    assert isinstance(result.error, WebhookError) and result.error.retriable


async def test_request_is_signed_and_shaped() -> None:
    _, seen = await _send(lambda r: httpx.Response(200))
    (request,) = seen
    assert request.method == "POST" and str(request.url) == SUB.url
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == webhook_id("desk", make_alert().alert_id)
    assert spec_verify(SECRET, request.headers, request.content)
    body = json.loads(request.content)
    assert body["type"] == "alert.new"
    assert body["data"]["alert_id"] == make_alert().alert_id
    assert datetime.fromisoformat(body["timestamp"]) == make_alert().created_at


def test_webhook_id_is_stable_and_per_subscriber() -> None:
    alert = make_alert()
    assert build_request(SUB, alert).msg_id == build_request(SUB, alert).msg_id
    assert webhook_id("a", alert.alert_id) != webhook_id("b", alert.alert_id)
    assert build_request(SUB, make_alert(status="update")).body.startswith(
        b'{"type":"alert.update"'
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("30", 30.0, id="seconds"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("Sun, 01 Mar 2026 12:01:00 GMT", 60.0, id="http-date"),
        pytest.param("Sun, 01 Mar 2026 11:00:00 GMT", 0.0, id="date-in-the-past"),
        pytest.param("999999999", 3600.0, id="capped"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("-5", None, id="negative"),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


async def _count_connections(answer: bytes, sends: int) -> tuple[int, list[AttemptResult]]:
    """Webhooks to a real HTTP/1.1 keep-alive server on loopback that answers ``answer``."""
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer))
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    desk = Subscription(
        id="desk", url=f"http://127.0.0.1:{port}/hooks", secrets=(Secret(SECRET),), allow_http=True
    )
    settings = dataclasses.replace(Settings.defaults(), webhook_allow_hosts=("127.0.0.1",))
    sender = WebhookSender(settings)
    try:
        results = [await sender.send(build_request(desk, make_alert())) for _ in range(sends)]
    finally:
        await sender.stop()
        server.close()
        await server.wait_closed()
    return connections, results


async def test_a_short_answer_is_read_so_the_next_webhook_reuses_the_connection() -> None:
    """Reading the receiver's short answer to its end returns the connection to the pool: three
    webhooks to one desk take one TCP connection, not three handshakes."""
    connections, results = await _count_connections(b"ok", sends=3)
    assert [r.outcome for r in results] == ["delivered"] * 3
    assert connections == 1


async def test_a_long_answer_is_not_buffered_and_its_connection_is_dropped() -> None:
    """An answer over ``MAX_RESPONSE_BODY`` is not read to its end: the webhook still counts as
    delivered, and the connection is closed rather than drained (a new one for the next)."""
    connections, results = await _count_connections(b"x" * (4 * MAX_RESPONSE_BODY), sends=2)
    assert [r.outcome for r in results] == ["delivered"] * 2
    assert connections == 2


async def test_desks_that_hang_do_not_hold_up_a_healthy_one() -> None:
    """A hundred requests hanging on slow desks (what eight per subscriber make with a dozen
    such desks) leave the next desk's webhook free to go at once: the shared client has no
    global connection cap (under httpx's default of 100 it waited for one of them to time out:
    ``webhook_timeout`` of delay per webhook, or its own timeout, a desk that was up failing)."""
    hanging: list[asyncio.StreamWriter] = []
    all_hanging, released = asyncio.Event(), asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hanging.append(writer)
        if len(hanging) == 100:
            all_hanging.set()
        await released.wait()
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0, backlog=256)
    slow = Subscription(
        id="slow",
        url=f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hooks",
        secrets=(Secret(SECRET),),
        allow_http=True,
    )
    settings = dataclasses.replace(
        Settings.defaults(), webhook_allow_hosts=("127.0.0.1",), webhook_timeout=8.0
    )
    sender = WebhookSender(settings)
    stuck = [
        asyncio.create_task(sender.send(build_request(slow, make_alert(n)))) for n in range(100)
    ]
    try:
        async with asyncio.timeout(20):
            await all_hanging.wait()
        async with Receiver([SECRET]) as desk:
            healthy = dataclasses.replace(slow, id="desk", url=desk.url)
            result = await sender.send(build_request(healthy, make_alert()))
        # delivered while the slow desk's requests still hang, not once they timed out
        assert not any(task.done() for task in stuck)
        assert result.outcome == "delivered", result.error
    finally:
        released.set()
        for task in stuck:
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)
        await sender.stop()
        server.close()
        await server.wait_closed()
