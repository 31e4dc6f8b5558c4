"""Replay's read of the dead-letter topic when Kafka stops answering half-way.

The real reads are in ``tests/integration/test_delivery.py`` (a real broker). What a real broker
does not do on demand is go quiet between the end offsets a replay takes and the records before
them, so this stands in for the consumer in that one case.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition

from monitor.deliver import replay as replay_module
from monitor.deliver.signing import Secret
from monitor.deliver.subscriptions import Subscription, Subscriptions
from monitor.errors import PublishError
from monitor.settings import Settings
from tests.deliver_support import SECRET


class QuietConsumer:
    """Says partition 0 ends at offset 3, then never returns a record: the position stays 1."""

    def __init__(self, **config: Any) -> None:
        self.stopped = False

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.partitions = partitions

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        pass

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: 3 if tp.partition == 0 else 0 for tp in partitions}

    async def getmany(self, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        return {}

    async def position(self, tp: TopicPartition) -> int:
        return 1


async def test_a_read_that_stops_short_fails_instead_of_replaying_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the topic stops delivering records before the end offsets taken at the start, the
    replay raises ``PublishError`` naming the partition and how far it got, and sends nothing.
    Before, the read gave up after 10 quiet seconds and replayed what it had, reporting success
    over letters it never saw."""
    monkeypatch.setattr(replay_module, "AIOKafkaConsumer", QuietConsumer)
    monkeypatch.setattr(replay_module, "IDLE_POLLS", 3)
    settings = dataclasses.replace(Settings.defaults(), topic_partitions=2)
    desk = Subscription(id="desk", url="https://desk.example/hooks", secrets=(Secret(SECRET),))
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    with pytest.raises(PublishError, match=r"partition\(s\) 0 at 1 of 3") as info:
        await replay_module.replay(
            settings,
            Subscriptions((desk,)),
            "desk",
            None,
            transport=httpx.MockTransport(record),
        )
    assert info.value.retriable
    assert sent == []
