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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from faust.transport.drivers import aiokafka as driver
from faust.types import TP

SCHEME = "kafka-idempotent"


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


class Transport(driver.Transport):
    Consumer: ClassVar[type[driver.Consumer]] = Consumer
    Producer: ClassVar[type[driver.Producer]] = Producer


def broker_url(bootstrap_servers: str) -> str:
    """``host1:9092,host2:9092`` -> faust's broker URL list with our scheme."""
    hosts = [h.strip() for h in bootstrap_servers.split(",") if h.strip()]
    return ";".join(f"{SCHEME}://{h}" for h in hosts)
