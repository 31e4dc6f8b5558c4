"""Our faust consumer reads no stream partition while a rebalance is under way (issue 7, fault 2).

Faust's recovery clears the agents' buffers after it has resumed the stream partitions; what was
fetched from them in between was lost. These tests drive ``Consumer._getmany`` against a consumer
thread that records what it is asked for; the fault test on a real broker is
``tests/integration/test_worker_faults.py::test_survivor_takes_over_a_sigkilled_worker_with_its_story_state``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import faust
import pytest
from faust.transport.drivers import aiokafka as driver
from faust.types import TP

from monitor.transport import Consumer

CHANGELOG = TP("t-unit-stories-changelog", 0)
ARTICLES = TP("articles", 0)
MATCHES = TP("t-unit-matches", 1)


@dataclass(frozen=True)
class Record:
    offset: int


class AiokafkaConsumer:
    """What ``Consumer`` asks of aiokafka's consumer to hand records back: seeks, recorded."""

    def __init__(self, assigned: set[TP]) -> None:
        self.assigned = assigned
        self.seeks: list[tuple[TP, int]] = []

    def assignment(self) -> set[TP]:
        return self.assigned

    def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))


class Thread(driver.AIOKafkaConsumerThread):
    """A consumer thread without a thread or a broker: answers ``getmany`` with ``records``."""

    def __init__(self, records: Mapping[TP, list[Any]], aiokafka: AiokafkaConsumer) -> None:
        self.records = records
        self.aiokafka = aiokafka
        self.asked: list[set[TP] | None] = []
        self.on_fetch: Callable[[], None] = lambda: None

    async def getmany(self, active_partitions: set[TP] | None, timeout: float) -> Any:  # noqa: ASYNC109
        self.asked.append(None if active_partitions is None else set(active_partitions))
        self.on_fetch()
        wanted = active_partitions or set(self.records)
        return {tp: batch for tp, batch in self.records.items() if tp in wanted}

    async def call_thread(self, fun: Callable[..., Awaitable[Any]], *args: Any, **kw: Any) -> Any:
        return await fun(*args, **kw)

    def _ensure_consumer(self) -> Any:
        return self.aiokafka


@pytest.fixture
def app() -> Iterator[faust.App]:
    app = faust.App(
        "t-unit", broker="kafka-idempotent://127.0.0.1:1", store="memory://", autodiscover=False
    )
    app.Table("stories", partitions=1)
    consumer = app.consumer
    assert isinstance(consumer, Consumer)
    real = consumer._thread  # never started: its event loop is closed here
    yield app
    real.thread_loop.close()


def _consumer(app: faust.App, records: Mapping[TP, list[Any]]) -> tuple[Consumer, Thread]:
    consumer = app.consumer
    assert isinstance(consumer, Consumer)
    thread = Thread(records, AiokafkaConsumer({CHANGELOG, ARTICLES, MATCHES}))
    consumer._thread = thread
    return consumer, thread


RECORDS = {
    CHANGELOG: [Record(0), Record(1)],
    ARTICLES: [Record(48), Record(49)],
    MATCHES: [Record(9), Record(10), Record(11)],
}


async def test_between_rebalances_every_active_partition_is_read(app: faust.App) -> None:
    """Outside a rebalance the consumer asks for, and returns, the records of every partition."""
    consumer, thread = _consumer(app, RECORDS)
    records = await consumer._getmany({CHANGELOG, ARTICLES, MATCHES}, timeout=1.0)
    assert records == RECORDS
    assert thread.asked == [{CHANGELOG, ARTICLES, MATCHES}]
    assert thread.aiokafka.seeks == []


async def test_during_a_rebalance_only_changelogs_are_read(app: faust.App) -> None:
    """While the group rebalances (recovery reads the changelogs), stream partitions are not
    asked for: their records stay in aiokafka's buffer for after the agents' buffers are cleared."""
    consumer, thread = _consumer(app, RECORDS)
    app.on_rebalance_start()
    records = await consumer._getmany({CHANGELOG, ARTICLES, MATCHES}, timeout=1.0)
    assert records == {CHANGELOG: RECORDS[CHANGELOG]}
    assert thread.asked == [{CHANGELOG}]
    app.on_rebalance_end()
    records = await consumer._getmany({CHANGELOG, ARTICLES, MATCHES}, timeout=1.0)
    assert records == RECORDS, "the stream partitions are read again once the rebalance is over"


async def test_during_a_rebalance_without_changelogs_nothing_is_fetched(app: faust.App) -> None:
    """With only stream partitions active, a rebalance fetches nothing at all (an empty set
    would ask aiokafka for every partition)."""
    consumer, thread = _consumer(app, RECORDS)
    app.on_rebalance_start()
    assert await consumer._getmany({ARTICLES, MATCHES}, timeout=0.05) == {}
    assert thread.asked == []


async def test_a_fetch_overtaken_by_a_rebalance_hands_its_stream_records_back(
    app: faust.App,
) -> None:
    """A fetch asked for before the rebalance started returns stream records during it: faust
    does not get them, and each partition is sought back to its first record, so nothing that
    was taken from aiokafka is skipped; changelog records go through."""
    consumer, thread = _consumer(app, RECORDS)
    thread.aiokafka.assigned.discard(MATCHES)  # revoked meanwhile: read from its committed offset
    thread.on_fetch = app.on_rebalance_start
    records = await consumer._getmany({CHANGELOG, ARTICLES, MATCHES}, timeout=1.0)
    assert records == {CHANGELOG: RECORDS[CHANGELOG]}
    assert thread.aiokafka.seeks == [(ARTICLES, 48)]
