"""Faust's aiokafka transport with an idempotent, acks=all producer and a seek that can rewind.

Faust turns idempotence on only in exactly-once mode; at-least-once delivery of alerts still wants
a producer whose retries cannot duplicate or reorder a partition. Registered through faust's own
extension point (the ``faust.transports`` entry-point namespace, see pyproject.toml) as the URL
scheme ``kafka-idempotent://``.

Faust drops fetched-but-unprocessed events when a rebalance suspends its streams and relies on
"seek stream partitions to committed offsets" to fetch them again (faust-streaming issues #216,
#221). aiokafka's ``seek_to_committed`` does not move a partition that has no committed offset
(or offset 0), so on a partition nobody has committed yet (a worker SIGKILLed in its first commit
interval, then taken over) those events were lost: the fetch position stayed past them. Our
consumer seeks such partitions of acked stream topics to their beginning, which is what
``auto_offset_reset="earliest"`` promises; at worst events are processed twice.

A rebalance also lost events that were fetched while it was still running (issue 7, fault 2; open
upstream as faust-streaming #596). Faust's recovery resumes the fetch loop to read the changelogs,
then, at its end, resumes the stream partitions and seeks them to their committed offsets while
that loop runs; only then does ``flow_control.resume()`` clear every agent's buffer. What the loop
fetched from the stream partitions in between was in those buffers: dropped, never acknowledged,
and the fetch position was already past it. Faust then commits past the hole (``_add_gap`` counts
skipped offsets as done, ``_new_offset`` lets the first acknowledged offset sit one past the
committed one), so a survivor taking over a SIGKILLed worker lost a few matches and articles in
2 runs of 3. Our consumer takes no record of a stream partition while a rebalance is under way:
they stay in aiokafka's buffer, or are fetched again after a seek, once the agents' buffers are
cleared for the last time.

A worker that joined alone and then rebalanced at once (a second worker joining) can see the
first recovery end during the second (its log says "Worker ready" after "Joined group ...
(generation 2)"): that stale end clears ``app.rebalancing`` while the second recovery still runs,
and the hold with it. So the consumer also holds stream partitions while it
seeks them (``perform_seek``): nothing fetched from a position the seek is about to leave reaches an
agent's buffer before that buffer is cleared.

And whatever else may drop a record, our consumer never commits past one it fetched and nobody
acknowledged (``_new_offset``). Faust commits the first run of consecutive acknowledged offsets; it
checks that the run starts at the committed offset only when that offset is known and non-zero,
and lets it start one past it even then (faust-streaming #606; the fix, PR #707, is not released).
A partition's head is the committed offset, or, where nothing was committed (or the records there
are gone: compaction, retention, transaction markers), the first record fetched since the
partition was last sought. Until the head is acknowledged nothing is committed: a record lost
inside the worker costs a stalled commit (lag, replayed after a restart), never a silent skip.
A CI run lost the alert of the first article of a partition (offset 0, nothing committed yet),
with the worker that took the partition over after a SIGKILL: the path it took was not
reproduced in 40 local runs; these are the holes it could have gone through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from typing import Any, ClassVar

from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as driver
from faust.types import TP

SCHEME = "kafka-idempotent"
# How often the fetch loop looks again while a rebalance holds every partition it may read.
_HOLD_POLL = 0.1
# Acknowledged offsets waiting behind an unacknowledged head before the stall is logged.
STALL_WARNING = 1000

log = logging.getLogger(__name__)


class Producer(driver.Producer):
    def _settings_extra(self) -> Mapping[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class ConsumerThread(driver.AIOKafkaConsumerThread):
    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed: Mapping[TP, int] = await self.call_thread(self._seek_to_committed_or_beginning)
        return committed

    async def _seek_to_committed_or_beginning(self) -> Mapping[TP, int]:
        consumer = self._ensure_consumer()
        committed: Mapping[TP, int] = await consumer.seek_to_committed()
        app = self.app
        if app.conf.consumer_auto_offset_reset == "earliest":
            uncommitted = [
                tp
                for tp, offset in committed.items()
                if not offset
                and app.topics.acks_enabled_for(tp.topic)
                and tp.topic not in app.tables.changelog_topics
            ]
            if uncommitted:
                await consumer.seek_to_beginning(*uncommitted)
        return committed


def partition_head(committed: int | None, first_fetched: int | None) -> int | None:
    """The offset a partition's next commit must start from: the committed offset, or the first
    record fetched since the last seek when there is none or nothing is left at it (None: not
    known yet, so nothing may be committed)."""
    if committed is None:
        return first_fetched
    if first_fetched is not None and first_fetched > committed:
        return first_fetched
    return committed


def head_is_done(head: int | None, acked: Collection[int], gap: Any) -> bool:
    """Whether the record at ``head`` was acknowledged, or is no record (a gap faust found)."""
    return head is not None and (head in acked or bool(gap and gap.overlaps_point(head)))


class Consumer(driver.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # first record fetched of each stream partition since it was last sought
        self._first_fetched: dict[TP, int] = {}
        # heads of the partitions being revoked (faust forgets their committed offsets first)
        self._revoked_heads: dict[TP, int | None] = {}
        self._seeking = False
        self._stalled: set[TP] = set()
        super().__init__(*args, **kwargs)

    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def perform_seek(self) -> None:
        """Seek as faust does, holding the stream partitions meanwhile; the heads start again."""
        self._seeking = True
        try:
            await super().perform_seek()
        finally:
            self._seeking = False
            self._first_fetched.clear()
            self._revoked_heads.clear()
            self._stalled.clear()

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Commit what is done before faust forgets the partitions' acknowledgements, and keep their
        heads: what the agents finish while the rebalance waits for them is committed from there."""
        await self.commit()
        self._revoked_heads = {tp: self._head(tp) for tp in revoked}
        await super().on_partitions_revoked(revoked)

    def _head(self, tp: TP) -> int | None:
        committed = self._committed_offset.get(tp)
        if committed is None:
            committed = self._revoked_heads.get(tp)
        return partition_head(committed, self._first_fetched.get(tp))

    def _new_offset(self, tp: TP) -> int | None:
        """Faust's next offset to commit, only once the partition's head is acknowledged."""
        acked = self._acked.get(tp)
        if not acked:
            return None
        head = self._head(tp)
        if not head_is_done(head, self._acked_index[tp], self._gap.get(tp)):
            if len(acked) >= STALL_WARNING and tp not in self._stalled:
                self._stalled.add(tp)
                log.warning(
                    "offset commits of %s wait for offset %s, never acknowledged "
                    "(%d later offsets are); it is processed again after a restart",
                    tp,
                    head,
                    len(acked),
                )
            return None
        return super()._new_offset(tp)

    async def _getmany(
        self,
        active_partitions: set[TP] | None,
        timeout: float,  # noqa: ASYNC109  # faust's signature
    ) -> RecordMap:
        """Records of ``active_partitions``; those of stream partitions only between rebalances.

        ``app.rebalancing`` is set as the group starts to rebalance (faust's rebalance listener,
        before anything is revoked) and cleared once recovery has resumed the agents' flow, after
        the last clearing of their buffers. Records of stream partitions not asked for stay in
        aiokafka's buffer; a fetch that was asked for before the rebalance and returns during it
        is handed back by seeking its partitions to its first record.
        """
        if active_partitions is not None and self._holding_streams():
            active_partitions = {tp for tp in active_partitions if self._is_changelog_tp(tp)}
            if not active_partitions:
                # An empty set would ask aiokafka for every partition.
                await asyncio.sleep(min(timeout, _HOLD_POLL))
                return {}
        records = await super()._getmany(active_partitions, timeout)
        if records and self._holding_streams():
            held = {tp: batch for tp, batch in records.items() if not self._is_changelog_tp(tp)}
            if held:
                await self._thread.call_thread(self._hand_back, held)
                records = {tp: batch for tp, batch in records.items() if tp not in held}
        for tp, batch in records.items():
            if batch and tp not in self._first_fetched and not self._is_changelog_tp(tp):
                self._first_fetched[tp] = batch[0].offset
        return records

    def _holding_streams(self) -> bool:
        return (bool(self.app.rebalancing) or self._seeking) and not self.app.client_only

    async def _hand_back(self, held: Mapping[TP, list[Any]]) -> None:
        """In the consumer thread: fetch ``held`` again from its first offsets."""
        thread = self._thread
        assert isinstance(thread, driver.AIOKafkaConsumerThread)
        consumer = thread._ensure_consumer()
        assigned = consumer.assignment()
        for tp, batch in held.items():
            if batch and tp in assigned:  # a revoked one is read from its committed offset
                consumer.seek(tp, batch[0].offset)


class Transport(driver.Transport):
    Consumer: ClassVar[type[driver.Consumer]] = Consumer
    Producer: ClassVar[type[driver.Producer]] = Producer


def broker_url(bootstrap_servers: str) -> str:
    """``host1:9092,host2:9092`` -> faust's broker URL list with our scheme."""
    hosts = [h.strip() for h in bootstrap_servers.split(",") if h.strip()]
    return ";".join(f"{SCHEME}://{h}" for h in hosts)
