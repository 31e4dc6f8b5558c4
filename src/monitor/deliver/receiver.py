"""A small, real webhook receiver for the demo and the tests.

It verifies every request's Standard Webhooks signature with the secret(s) it was given (401 when
it does not verify), records what it received, answers a scripted sequence of replies (``500``,
``429`` with Retry-After, ``410``, or hang until stopped) and then 200, and can print each alert
readably::

    python -m monitor.deliver.receiver --port 8099 --secret-env DEMO_DESK_SECRET \\
        --script 500,500,429:2,200

In a test::

    async with Receiver([secret], script=[500, 500, 200]) as receiver:
        ...  # point a subscription at receiver.url
        await receiver.wait_for(3, within=10)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import ssl
import sys
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TextIO

from aiohttp import web

from monitor.deliver.signing import HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, verify
from monitor.errors import SignatureError


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status (with an optional Retry-After), or a hang until stopped."""

    status: int = 200
    retry_after: str | None = None
    hang: bool = False

    @classmethod
    def parse(cls, token: str) -> Reply:
        """``200``, ``500``, ``429:5`` (Retry-After 5), ``hang``."""
        token = token.strip()
        if token == "hang":
            return cls(hang=True)
        status, _, retry_after = token.partition(":")
        return cls(int(status), retry_after or None)


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as received, with the verdict on its signature and what was answered."""

    webhook_id: str | None
    timestamp: str | None
    signature: str | None
    body: bytes
    verified: bool
    error: str | None
    status: int | None
    """The status answered; None for a hang."""
    received_at: float
    host: str | None = None
    """The ``Host`` header it came with."""

    def payload(self) -> dict[str, Any]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value


class Receiver:
    """An aiohttp server on ``host`` (a free port by default). ``stop()`` is safe twice.

    With an ``ssl_context`` it serves HTTPS (its ``url`` says so).

    ``start()`` again after ``stop()`` listens on the same port, keeping ``requests``: a desk that
    goes down and comes back.
    """

    def __init__(
        self,
        secrets: Iterable[str | Secret],
        *,
        script: Iterable[Reply | int] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/hooks",
        tolerance: float = 300.0,
        out: TextIO | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.secrets = tuple(s if isinstance(s, Secret) else Secret(s) for s in secrets)
        self._script: deque[Reply] = deque()
        self.script(*script)
        self.host = host
        self.port = port
        self.path = path
        self.tolerance = tolerance
        self.out = out
        self.ssl_context = ssl_context
        self.requests: list[ReceivedRequest] = []
        self._arrived = asyncio.Condition()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._stopped = False

    def script(self, *replies: Reply | int) -> None:
        """Queue answers for the next verified requests (200 once the script is used up)."""
        self._script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}{self.path}"

    @property
    def delivered(self) -> list[ReceivedRequest]:
        """Verified requests answered 2xx."""
        return [r for r in self.requests if r.verified and r.status and 200 <= r.status < 300]

    async def __aenter__(self) -> Receiver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError(f"the receiver on {self.url} is already listening")
        self._stopped = False
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, ssl_context=self.ssl_context).start()

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._release.set()  # hanging handlers return, so the server can close
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, within: float = 10.0) -> list[ReceivedRequest]:
        """Wait until at least ``count`` requests arrived; TimeoutError otherwise."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return list(self.requests)

    async def _record(self, request: ReceivedRequest) -> None:
        async with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
        if self.out is not None:
            self.out.write(_describe(request) + "\n")
            self.out.flush()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = request.headers
        verified, error = True, None
        try:
            verify(headers, body, self.secrets, now=time.time(), tolerance=self.tolerance)
        except SignatureError as exc:
            verified, error = False, str(exc)
        reply = (self._script.popleft() if self._script else Reply()) if verified else Reply(401)
        received = ReceivedRequest(
            headers.get(HEADER_ID),
            headers.get(HEADER_TIMESTAMP),
            headers.get(HEADER_SIGNATURE),
            body,
            verified,
            error,
            None if reply.hang else reply.status,
            time.monotonic(),
            headers.get("Host"),
        )
        await self._record(received)
        if reply.hang:
            await self._release.wait()
            return web.Response(status=503)
        response_headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
        return web.Response(status=reply.status, headers=response_headers, text="")


def _describe(request: ReceivedRequest) -> str:
    answered = "hang" if request.status is None else str(request.status)
    stamp = time.strftime("%H:%M:%S")
    if not request.verified:
        return f"{stamp} {answered} REJECTED {request.webhook_id}: {request.error}"
    try:
        payload = request.payload()
        return f"{stamp} {answered} " + describe_alert(payload["type"], payload["data"])
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        return f"{stamp} {answered} {request.webhook_id}: unreadable payload ({exc!r})"


def describe_alert(kind: str, alert: dict[str, Any]) -> str:
    """An alert as a desk editor reads it: what, where, who, how many, and why it fired."""
    entities = alert.get("entities", {})
    countries = ", ".join(
        c["code"] + (f" ({'/'.join(c['roles'])})" if c.get("roles") else "")
        for c in entities.get("countries", [])
    )
    organisations = ", ".join(o["name"] for o in entities.get("organisations", []))
    people = ", ".join(
        p["name"] + (f" ({p['role']})" if p.get("role") else "") for p in entities.get("people", [])
    )
    figures = ", ".join(
        f"{f['kind']} {f['value']}" + (f" ({f['qualifier']})" if f.get("qualifier") else "")
        for f in alert.get("figures", [])
    )
    language = alert.get("language", {})
    lines = [
        f"{kind:<12} {alert['rule_id']}  severity={alert['severity']}  "
        f"lang={language.get('code')}  story={alert['story_id']} ({alert.get('story_sources', 1)} "
        f"source(s))",
        f"  article:   {alert['article_title'] or alert['article_id']!r} ({alert['source']})",
        f"  countries: {countries or '-'}",
        f"  orgs:      {organisations or '-'}",
        f"  people:    {people or '-'}",
        f"  figures:   {figures or '-'}",
        f"  severity:  {'; '.join(alert.get('severity_reasons', []))}",
    ]
    for evidence in alert.get("evidence", [])[:2]:
        sentence, span, within = evidence["sentence"], evidence["span"], evidence["sentence_span"]
        start, end = span["start"] - within["start"], span["end"] - within["start"]
        marked = f"{sentence[:start]}[{sentence[start:end]}]{sentence[end:]}"
        lines.append(f"  evidence:  {marked[:200]}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The receiver's options, shared by ``monitor receiver`` and ``python -m``."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--path", default="/hooks")
    parser.add_argument("--secret", action="append", default=[], help="whsec_... (repeatable)")
    parser.add_argument("--secret-env", action="append", default=[], help="a variable holding one")
    parser.add_argument("--script", default="", help="replies, e.g. 500,500,429:2,410,hang,200")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_arguments(parser)
    return parser


async def _serve(args: argparse.Namespace, secrets: Sequence[str]) -> None:
    script = [Reply.parse(t) for t in args.script.split(",") if t.strip()]
    receiver = Receiver(
        secrets, script=script, host=args.host, port=args.port, path=args.path, out=sys.stdout
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with receiver:
        sys.stdout.write(f"receiving webhooks on {receiver.url} (Ctrl-C to stop)\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    return run(_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM with the options of ``add_arguments``."""
    secrets = list(args.secret)
    for name in args.secret_env:
        if not os.environ.get(name):
            sys.stderr.write(f"receiver: environment variable {name} is not set\n")
            return 2
        secrets.append(os.environ[name])
    if not secrets:
        sys.stderr.write("receiver: give at least one --secret or --secret-env\n")
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, secrets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
