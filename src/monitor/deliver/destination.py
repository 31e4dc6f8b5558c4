"""Where a webhook may go (the SSRF guard), checked where the socket connects.

A subscriber's URL names a host. ``check_url`` refuses what no connection may carry (a scheme
other than https, or http unless allowed). Everything about addresses is decided by
``GuardedBackend``, the network backend of the sender's connection pool: for every new TCP
connection it resolves the host once, refuses it if any address is not public
(``forbidden_reason``), and connects to one of exactly the addresses it checked.

The check and the connection therefore see one DNS answer. Checking first and letting the HTTP
client resolve the name again to connect (what this module replaced) let a name answer a public
address to the check and 127.0.0.1 to the connection (DNS rebinding). Only the socket is pointed
at the checked address: httpx still sends the host name in ``Host``, in the TLS SNI and to
certificate verification, and pools connections per host name, so none of those change.

``allow_hosts`` (``MONITOR_WEBHOOK_ALLOW_HOSTS``) lists host names or addresses that skip the
address check (a desk on the internal network, the demo's receiver on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

import httpcore
import httpx

from monitor.errors import DeliveryError

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationError(DeliveryError):
    """A destination the guard refuses (not retriable), or a host that does not resolve now
    (retriable). Raised inside the HTTP client; ``WebhookSender.send`` turns it into a
    ``WebhookError`` naming the subscriber."""


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why an address must not be called (SSRF), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if flag:
            return reason
    if not ip.is_global:
        return "not globally routable"
    return None


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses the OS resolver gives for ``host``, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, *, allow_http: bool) -> httpx.URL:
    """Refuse a URL that is not ``https://host/...`` (or ``http://`` when allowed)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DestinationError(f"invalid URL: {exc}", retriable=False) from exc
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise DestinationError("URL must be https://host/...", retriable=False)
    if parsed.scheme == "http" and not allow_http:
        raise DestinationError("plain http is not allowed", retriable=False)
    return parsed


def allowed_forms(allow_hosts: Iterable[str]) -> frozenset[str]:
    """Each allowed host as written and as the connection names it: lower case, IDNA-encoded
    (``Bücher.example`` is also ``xn--bcher-kva.example``); addresses as written."""
    forms: set[str] = set()
    for host in allow_hosts:
        forms.add(host)
        try:
            forms.add(httpx.URL(f"http://{host}/").raw_host.decode("ascii"))
        except (httpx.InvalidURL, UnicodeError):
            pass  # an IPv6 address, compared as written
    return frozenset(forms)


async def checked_addresses(
    host: str, port: int, *, allow_hosts: Iterable[str], resolve: Resolver
) -> list[str]:
    """The addresses a connection to ``host`` may use: all of them, each public or allowed.

    One non-public address refuses the host as a whole (a name that also answers 10.0.0.1 is
    not a desk's public endpoint). Raises ``DestinationError``.
    """
    return await _checked(host, port, allowed_forms(allow_hosts), resolve)


async def _checked(host: str, port: int, allowed: frozenset[str], resolve: Resolver) -> list[str]:
    """``checked_addresses`` with the allow list already in ``allowed_forms``."""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise DestinationError(f"cannot resolve {host}: {exc}", retriable=True) from exc
    if not addresses:
        raise DestinationError(f"{host} resolves to nothing", retriable=True)
    if host in allowed:
        return addresses
    for address in addresses:
        if address in allowed:
            continue
        reason = forbidden_reason(ipaddress.ip_address(address.split("%", 1)[0]))
        if reason is not None:
            raise DestinationError(f"{host} resolves to a {reason} address", retriable=False)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to checked addresses.

    Tried in the resolver's order; the next one only when connecting to one fails. ``inner``
    opens the sockets (anyio's backend; a test may pass one that records the addresses).
    """

    def __init__(
        self,
        *,
        allow_hosts: Iterable[str],
        resolve: Resolver = resolve_host,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allowed = allowed_forms(allow_hosts)  # once, not per connection
        self._resolve = resolve
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _checked(host, port, self._allowed, self._resolve)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # _checked never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationError("a webhook never goes to a unix socket", retriable=False)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


UNCAPPED_LIMITS: Final = httpx.Limits(
    max_connections=None, max_keepalive_connections=None, keepalive_expiry=5.0
)
"""No cap on the connections of the whole pool: each subscriber bounds its own requests (its
``DeliveryOptions.concurrency``). httpx's default cap (100, shared by every host) let a dozen
hanging desks hold every connection, and a healthy desk's webhooks then timed out waiting for
one. Idle connections still close after ``keepalive_expiry`` seconds."""


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, its connection pool built on ``GuardedBackend``.

    httpx (0.27, 0.28) takes no network backend (encode/httpx#3749 would add one), so the pool
    httpx built is replaced by the same pool on the guard; the check below fails loudly, at
    construction, if a later httpx no longer keeps its pool where this expects it.
    """

    def __init__(
        self,
        *,
        allow_hosts: Iterable[str],
        resolve: Resolver = resolve_host,
        verify: ssl.SSLContext | None = None,
        limits: httpx.Limits | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        # certifi's CAs unless a context is given (a private CA, a test's); never the
        # environment's SSL_CERT_FILE, as before (the client has trust_env=False)
        context = verify or httpx.create_ssl_context(trust_env=False)
        limits = limits or UNCAPPED_LIMITS
        super().__init__(verify=context, trust_env=False, limits=limits)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport no longer keeps its pool in _pool")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_hosts=allow_hosts, resolve=resolve, inner=inner),
        )
