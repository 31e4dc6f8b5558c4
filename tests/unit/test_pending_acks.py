"""The articles stage acknowledges events in reading order, each once its findings are on Kafka."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from monitor.app import PendingAcks
from monitor.errors import PublishError


class Stream:
    """What ``PendingAcks`` needs of a faust stream: ``ack``, recorded in call order."""

    def __init__(self) -> None:
        self.acked: list[str] = []

    async def ack(self, event: Any) -> bool:
        await asyncio.sleep(0)  # faust's ack may yield: order must hold across awaits
        self.acked.append(event)
        return True


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_an_event_is_acknowledged_only_after_every_event_read_before_it() -> None:
    """An article without findings read after one whose findings are in flight waits for it:
    faust would otherwise commit past the earlier one, and a crash would lose it."""
    stream = Stream()
    acks = PendingAcks(stream, limit=100)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    first: asyncio.Future[None] = loop.create_future()
    third: asyncio.Future[None] = loop.create_future()
    await acks.ack_when_sent("e1", [first])  # type: ignore[arg-type]
    await acks.ack_when_sent("e2", [])  # type: ignore[arg-type]
    await acks.ack_when_sent("e3", [third])  # type: ignore[arg-type]
    await acks.ack_when_sent("e4", [])  # type: ignore[arg-type]
    await _settle()
    assert stream.acked == []
    third.set_result(None)
    await _settle()
    assert stream.acked == [], "e3 is sent, but e1 before it is not"
    first.set_result(None)
    await _settle()
    assert stream.acked == ["e1", "e2", "e3", "e4"]


async def test_a_failed_send_holds_back_its_event_and_every_later_one() -> None:
    """Nothing at or after a finding Kafka refused is acknowledged (so never committed), and the
    agent hears of it at its next event."""
    stream = Stream()
    acks = PendingAcks(stream, limit=100)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    failing: asyncio.Future[None] = loop.create_future()
    await acks.ack_when_sent("e1", [])  # type: ignore[arg-type]
    await acks.ack_when_sent("e2", [failing])  # type: ignore[arg-type]
    await acks.ack_when_sent("e3", [])  # type: ignore[arg-type]
    failing.set_exception(OSError("broker gone"))
    await _settle()
    assert stream.acked == ["e1"]
    with pytest.raises(PublishError, match="broker gone"):
        acks.raise_failure()
