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
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as driver
from faust.types import TP

SCHEME = "kafka-idempotent"
# How often the fetch loop looks again while a rebalance holds every partition it may read.
_HOLD_POLL = 0.1


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


class Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

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
        return records

    def _holding_streams(self) -> bool:
        return bool(self.app.rebalancing) and not self.app.client_only

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
