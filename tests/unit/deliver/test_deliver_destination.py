"""The SSRF guard: pure checks table-driven, then real sockets on 127.0.0.1 (a real ``Receiver``,
real TLS with trustme certificates) to show that the address checked is the address connected to.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import ssl
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import pytest
import trustme

from monitor.deliver.destination import (
    DestinationError,
    GuardedTransport,
    check_url,
    checked_addresses,
    forbidden_reason,
)
from monitor.deliver.receiver import Receiver
from monitor.deliver.signing import Secret
from monitor.deliver.subscriptions import Subscription
from monitor.deliver.webhook import AttemptResult, WebhookSender, build_request
from monitor.settings import Settings
from tests.deliver_support import SECRET, make_alert

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        pytest.param("93.184.215.14", None, id="public-v4"),
        pytest.param("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None, id="public-v6"),
        pytest.param("127.0.0.1", "loopback", id="loopback"),
        pytest.param("::1", "loopback", id="loopback-v6"),
        pytest.param("10.1.2.3", "private", id="rfc1918"),
        pytest.param("192.168.0.1", "private", id="rfc1918-192"),
        pytest.param("169.254.169.254", "link-local", id="cloud-metadata"),
        pytest.param("fe80::1", "link-local", id="link-local-v6"),
        pytest.param("224.0.0.1", "multicast", id="multicast"),
        pytest.param("0.0.0.0", "unspecified", id="unspecified"),
        pytest.param("::ffff:127.0.0.1", "loopback", id="v4-mapped"),
        pytest.param("100.64.0.1", "not globally routable", id="cgnat"),
        pytest.param("240.0.0.1", "reserved", id="reserved"),
    ],
)
def test_forbidden_reason(address: str, reason: str | None) -> None:
    """Every non-public kind of address is named; public v4/v6 addresses pass."""
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    ("url", "allow_http", "error"),
    [
        pytest.param("https://desk.example/hooks", False, None, id="https"),
        pytest.param("http://desk.example/hooks", False, "plain http", id="http"),
        pytest.param("http://desk.example/hooks", True, None, id="http-allowed"),
        pytest.param("ftp://desk.example/", True, "https://", id="scheme"),
        pytest.param("https:///hooks", False, "https://", id="no-host"),
        pytest.param("http://[::1/", True, "invalid URL", id="unparsable"),
    ],
)
def test_check_url(url: str, allow_http: bool, error: str | None) -> None:
    """Only https (and http where allowed) to a named host passes; refusals are final."""
    if error is None:
        assert check_url(url, allow_http=allow_http).host == "desk.example"
        return
    with pytest.raises(DestinationError, match=error) as info:
        check_url(url, allow_http=allow_http)
    assert not info.value.retriable


def _answers(*answers: Sequence[str] | OSError) -> Any:
    """A resolver giving one answer per call (the last one again after that), counting calls."""

    async def resolve(host: str, port: int) -> list[str]:
        resolve.calls.append(host)  # type: ignore[attr-defined]
        answer = answers[min(len(resolve.calls), len(answers)) - 1]  # type: ignore[attr-defined]
        if isinstance(answer, OSError):
            raise answer
        return list(answer)

    resolve.calls = []  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    ("host", "answer", "allow_hosts", "expected", "error"),
    [
        pytest.param("desk.example", [PUBLIC], (), [PUBLIC], None, id="public"),
        pytest.param("desk.example", [PUBLIC, "10.0.0.1"], (), None, "private", id="any-private"),
        pytest.param("127.0.0.1", [], (), None, "loopback", id="ip-literal"),
        pytest.param("::1", [], (), None, "loopback", id="ip6-literal"),
        pytest.param("127.0.0.1", [], ("127.0.0.1",), ["127.0.0.1"], None, id="allowed-address"),
        pytest.param(
            "desk.internal", ["10.0.0.5"], ("desk.internal",), ["10.0.0.5"], None, id="allowed-host"
        ),
        pytest.param(
            "desk.example", ["127.0.0.1"], ("127.0.0.1",), ["127.0.0.1"], None, id="allowed-answer"
        ),
        pytest.param(
            "xn--bcher-kva.example", ["10.0.0.5"], ("Bücher.example",), ["10.0.0.5"], None, id="idn"
        ),
        pytest.param("::1", [], ("::1",), ["::1"], None, id="allowed-ip6"),
        pytest.param("desk.example", [], (), None, "resolves to nothing", id="empty"),
        pytest.param(
            "desk.example", OSError("no such name"), (), None, "cannot resolve", id="unresolvable"
        ),
    ],
)
async def test_checked_addresses(
    host: str,
    answer: list[str] | OSError,
    allow_hosts: tuple[str, ...],
    expected: list[str] | None,
    error: str | None,
) -> None:
    """A host passes with all its addresses only when each is public or allowed; a name that
    does not resolve now is retriable, an address refusal is not."""
    resolve = _answers(answer)
    if error is None:
        addresses = await checked_addresses(host, 443, allow_hosts=allow_hosts, resolve=resolve)
        assert addresses == expected
        return
    with pytest.raises(DestinationError, match=error) as info:
        await checked_addresses(host, 443, allow_hosts=allow_hosts, resolve=resolve)
    assert info.value.retriable is (error in ("cannot resolve", "resolves to nothing"))


class LoopbackOnly(httpcore.AsyncNetworkBackend):
    """Opens real sockets to 127.0.0.1 only (nothing leaves the machine) and records every
    address it is asked to connect to; any other address fails as an unreachable network."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.addresses.append(host)
        if host != "127.0.0.1":
            raise httpcore.ConnectError(f"test network: {host} is unreachable")
        return await self._real.connect_tcp(host, port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


def _desk(url: str) -> Subscription:
    return Subscription(id="desk", url=url, secrets=(Secret(SECRET),), allow_http=True)


async def _send(
    sub: Subscription,
    times: int,
    *,
    resolve: Any,
    allow_hosts: tuple[str, ...] = (),
    inner: httpcore.AsyncNetworkBackend | None = None,
    verify: ssl.SSLContext | None = None,
) -> list[AttemptResult]:
    settings = dataclasses.replace(Settings.defaults(), webhook_allow_hosts=allow_hosts)
    transport = GuardedTransport(
        allow_hosts=allow_hosts, resolve=resolve, inner=inner, verify=verify
    )
    sender = WebhookSender(settings, transport=transport)
    try:
        return [await sender.send(build_request(sub, make_alert(n))) for n in range(times)]
    finally:
        await sender.stop()


async def test_dns_rebinding_cannot_redirect_the_request() -> None:
    """A name that answers a public address first and 127.0.0.1 after cannot reach 127.0.0.1.

    ``localhost`` is what the OS resolves to 127.0.0.1, where a real receiver listens: before the
    guard moved to the connection, the check asked the resolver (public: pass) and httpx then
    resolved the name again and delivered there. Now the address checked is the address connected
    to (the public one, unreachable here), and the next connection's answer, 127.0.0.1, is refused.
    """
    async with Receiver([SECRET]) as receiver:
        resolve = _answers([PUBLIC], ["127.0.0.1"])
        network = LoopbackOnly()
        first, second = await _send(
            _desk(f"http://localhost:{receiver.port}/hooks"), 2, resolve=resolve, inner=network
        )
    assert receiver.requests == []
    assert network.addresses == [PUBLIC]  # never asked to connect to 127.0.0.1
    assert resolve.calls == ["localhost", "localhost"]  # one answer per connection, no second
    assert first.outcome == "retriable" and "unreachable" in str(first.error)
    assert second.outcome == "refused" and "loopback" in str(second.error)


async def test_a_refused_destination_is_never_connected_to() -> None:
    """A name resolving to a private address is refused before any socket is opened."""
    async with Receiver([SECRET]) as receiver:
        network = LoopbackOnly()
        (result,) = await _send(
            _desk(f"http://desk.example:{receiver.port}/hooks"),
            1,
            resolve=_answers(["127.0.0.1"]),
            inner=network,
        )
    assert result.outcome == "refused" and not result.error.retriable  # type: ignore[union-attr]
    assert network.addresses == [] and receiver.requests == []


async def test_delivery_through_the_guard_keeps_the_host_name_and_the_pool() -> None:
    """Through the real network backend: the request reaches the checked (allowed) address with
    ``Host`` naming the host, verifies with the receiver, and two webhooks share one connection
    (one resolution), as before the guard moved."""
    async with Receiver([SECRET]) as receiver:
        resolve = _answers(["127.0.0.1"])
        results = await _send(
            _desk(f"http://desk.test:{receiver.port}/hooks"),
            2,
            resolve=resolve,
            allow_hosts=("127.0.0.1",),
        )
    assert [r.outcome for r in results] == ["delivered", "delivered"]
    assert [r.host for r in receiver.delivered] == [f"desk.test:{receiver.port}"] * 2
    assert resolve.calls == ["desk.test"]


async def test_the_next_address_is_tried_when_one_does_not_connect() -> None:
    """A host with several checked addresses is reached on the next one when the first fails."""
    async with Receiver([SECRET]) as receiver:
        network = LoopbackOnly()
        (result,) = await _send(
            _desk(f"http://desk.test:{receiver.port}/hooks"),
            1,
            resolve=_answers([PUBLIC, "127.0.0.1"]),
            allow_hosts=("127.0.0.1",),
            inner=network,
        )
    assert result.outcome == "delivered" and len(receiver.delivered) == 1
    assert network.addresses == [PUBLIC, "127.0.0.1"]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_receiver(ca: trustme.CA, sni: list[str | None]) -> Receiver:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("desk.test").configure_cert(context)
    context.sni_callback = lambda _obj, name, _ctx: sni.append(name)
    return Receiver([SECRET], ssl_context=context)


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.mark.parametrize(
    ("host", "trust", "outcome", "error"),
    [
        pytest.param("desk.test", True, "delivered", None, id="verified"),
        pytest.param("other.test", True, "retriable", "CERTIFICATE_VERIFY_FAILED", id="wrong-name"),
        pytest.param("desk.test", False, "retriable", "CERTIFICATE_VERIFY_FAILED", id="unknown-ca"),
    ],
)
async def test_tls_is_verified_against_the_host_name(
    ca: trustme.CA, host: str, trust: bool, outcome: str, error: str | None
) -> None:
    """Connecting to the checked address leaves TLS as it was: the SNI is the host name and the
    certificate must be valid for it (a certificate for desk.test does not pass as other.test,
    even on the same address), from a trusted CA (certifi's by default)."""
    sni: list[str | None] = []
    async with _tls_receiver(ca, sni) as receiver:
        (result,) = await _send(
            _desk(f"https://{host}:{receiver.port}/hooks"),
            1,
            resolve=_answers(["127.0.0.1"]),
            allow_hosts=("127.0.0.1",),
            verify=_trusting(ca) if trust else None,
        )
    assert result.outcome == outcome
    assert sni == [host]
    if error is None:
        assert [r.host for r in receiver.delivered] == [f"{host}:{receiver.port}"]
    else:
        assert error in str(result.error) and receiver.requests == []
