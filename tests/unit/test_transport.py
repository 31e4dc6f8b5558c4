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

from monitor.transport import Consumer, partition_head

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


# Commits: never past a record that was fetched and never acknowledged (faust-streaming #606).


def _acknowledged(consumer: Consumer, tp: TP, offsets: list[int], *, committed: int | None) -> None:
    consumer._committed_offset[tp] = committed
    consumer._acked[tp] = list(offsets)
    consumer._acked_index[tp] = set(offsets)


async def test_a_missing_head_is_never_committed_over(app: faust.App) -> None:
    """The record at the committed offset was never acknowledged (in flight, or dropped): faust
    would commit the run after it (one past the committed offset passes its check), we wait."""
    consumer, _ = _consumer(app, RECORDS)
    _acknowledged(consumer, ARTICLES, [49, 50, 51], committed=48)
    assert consumer._new_offset(ARTICLES) is None
    assert consumer._acked[ARTICLES] == [49, 50, 51]
    _acknowledged(consumer, ARTICLES, [48, 49, 50, 51], committed=48)
    assert consumer._new_offset(ARTICLES) == 52


async def test_a_partition_never_committed_starts_at_its_first_fetched_record(
    app: faust.App,
) -> None:
    """Nothing committed yet: faust checks nothing and would commit 1..3 past a lost record 0.
    The head is the first record fetched since the seek, here 0."""
    consumer, _ = _consumer(app, {MATCHES: [Record(0), Record(1)]})
    _acknowledged(consumer, MATCHES, [1, 2, 3], committed=None)
    assert consumer._new_offset(MATCHES) is None, "head unknown: nothing fetched yet"
    await consumer._getmany({MATCHES}, timeout=1.0)
    assert consumer._first_fetched == {MATCHES: 0}
    assert consumer._new_offset(MATCHES) is None
    _acknowledged(consumer, MATCHES, [0, 1, 2, 3], committed=None)
    assert consumer._new_offset(MATCHES) == 4


async def test_records_gone_below_the_first_fetched_one_do_not_stall_commits(
    app: faust.App,
) -> None:
    """Committed 5, but the first record the consumer got is 6 (5 is a transaction marker, or
    was compacted away): the head is 6. (Faust finds no gap there: it compares with the
    committed offset as if it were the last offset read.)"""
    consumer, _ = _consumer(app, {ARTICLES: [Record(6), Record(7)]})
    await consumer._getmany({ARTICLES}, timeout=1.0)
    _acknowledged(consumer, ARTICLES, [6, 7], committed=5)
    assert consumer._new_offset(ARTICLES) == 8


async def test_a_head_in_a_gap_faust_found_is_done(app: faust.App) -> None:
    consumer, _ = _consumer(app, RECORDS)
    _acknowledged(consumer, ARTICLES, [6, 7], committed=5)
    consumer._gap[ARTICLES].addi(5, 6)
    assert consumer._new_offset(ARTICLES) == 8


def test_partition_head() -> None:
    assert partition_head(None, None) is None
    assert partition_head(None, 3) == 3
    assert partition_head(10, None) == 10
    assert partition_head(10, 4) == 10, "records before the commit were fetched earlier"
    assert partition_head(10, 12) == 12


async def test_stream_partitions_are_held_while_they_are_sought(app: faust.App) -> None:
    """Records fetched while faust seeks the stream partitions would reach the agents' buffers
    just before faust clears them; they stay behind, and the heads start again after the seek."""
    consumer, thread = _consumer(app, RECORDS)
    await consumer._getmany({CHANGELOG, ARTICLES, MATCHES}, timeout=1.0)
    assert consumer._first_fetched == {ARTICLES: 48, MATCHES: 9}
    during: list[Mapping[TP, list[Any]]] = []

    async def seek_to_committed() -> Mapping[TP, int]:
        during.append(await consumer._getmany({CHANGELOG, ARTICLES, MATCHES}, timeout=1.0))
        return {}

    thread.seek_to_committed = seek_to_committed  # type: ignore[method-assign]
    await consumer.perform_seek()
    assert during == [{CHANGELOG: RECORDS[CHANGELOG]}]
    assert consumer._first_fetched == {}
    assert await consumer._getmany({CHANGELOG, ARTICLES, MATCHES}, timeout=1.0) == RECORDS
