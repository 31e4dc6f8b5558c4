"""Webhook delivery end to end: a real Kafka broker, real receivers on 127.0.0.1, the Dispatcher.

Signatures are checked with the independent implementation in ``tests/deliver_support.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CollectorRegistry

from monitor.alert import Alert, encode_alert
from monitor.deliver.deadletter import DeadLetter, decode_dead_letter
from monitor.deliver.dispatcher import DeliveryOptions, Dispatcher
from monitor.deliver.receiver import Receiver, Reply
from monitor.deliver.replay import replay
from monitor.deliver.subscriptions import Subscriptions, parse_subscriptions
from monitor.deliver.webhook import webhook_id
from monitor.metrics import Metrics
from monitor.settings import Settings
from monitor.topics import ensure_topics
from tests.deliver_support import SECRET, make_alert, spec_verify

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@dataclass
class Env:
    settings: Settings

    async def produce(
        self, *alerts: Alert, partition: int | None = None
    ) -> dict[str, tuple[int, int]]:
        """Write ``alerts`` (to ``partition``, or by story key); alert_id -> (partition, offset)."""
        producer = AIOKafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap_servers)
        await producer.start()
        placed: dict[str, tuple[int, int]] = {}
        try:
            for alert in alerts:
                meta = await producer.send_and_wait(
                    self.settings.topic_alerts,
                    encode_alert(alert),
                    key=alert.story_id.encode(),
                    partition=partition,
                )
                placed[alert.alert_id] = (meta.partition, meta.offset)
        finally:
            await producer.stop()
        return placed

    @contextlib.asynccontextmanager
    async def _dead_letter_reader(
        self,
    ) -> AsyncIterator[tuple[AIOKafkaConsumer, list[TopicPartition]]]:
        """A consumer at the beginning of every partition of the dead-letter topic."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=None,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            tps = [TopicPartition(self.settings.topic_webhook_dlq, p) for p in range(2)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            yield consumer, tps
        finally:
            await consumer.stop()

    async def dead_letters(self, count: int, within: float = 20.0) -> list[DeadLetter]:
        """The first ``count`` letters on the dead-letter topic (waiting ``within`` s at most)."""
        letters: list[DeadLetter] = []
        async with self._dead_letter_reader() as (consumer, _), asyncio.timeout(within):
            while len(letters) < count:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    letters += [decode_dead_letter(r.value) for r in records]
        return letters

    async def all_dead_letters(self) -> list[DeadLetter]:
        """Every letter on the dead-letter topic, read up to its end offsets."""
        letters: list[DeadLetter] = []
        async with self._dead_letter_reader() as (consumer, tps):
            end = await consumer.end_offsets(tps)
            async with asyncio.timeout(20):
                for tp in tps:
                    while await consumer.position(tp) < end[tp]:
                        for records in (await consumer.getmany(tp, timeout_ms=200)).values():
                            letters += [decode_dead_letter(r.value) for r in records]
        return letters

    async def committed_offsets(self, subscriber: str) -> dict[int, int]:
        """The subscriber group's committed offset per partition that has one."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(
                f"{self.settings.app_id}-deliver-{subscriber}"
            )
        finally:
            await admin.close()
        return {tp.partition: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    async def committed(self, subscriber: str) -> int:
        return sum((await self.committed_offsets(subscriber)).values())

    async def committed_eventually(self, subscriber: str, total: int) -> None:
        """Poll until ``committed(subscriber)`` is ``total`` (20 s at most)."""
        await _eventually(lambda: self.committed(subscriber), total, subscriber)

    async def offsets_eventually(self, subscriber: str, expected: dict[int, int]) -> None:
        """Poll the group's committed offsets until they are ``expected`` (20 s at most)."""
        await _eventually(lambda: self.committed_offsets(subscriber), expected, subscriber)

    def subscriptions(self, body: str) -> Subscriptions:
        return parse_subscriptions(body, "test.yaml", {"DESK_SECRET": SECRET})


T = TypeVar("T")


async def _eventually(read: Callable[[], Awaitable[T]], expected: T, what: str) -> None:
    """Poll ``read()`` until it gives ``expected`` (20 s at most)."""
    deadline = time.monotonic() + 20
    while (got := await read()) != expected:
        assert time.monotonic() < deadline, f"{what}: committed {got}, not {expected}"
        await asyncio.sleep(0.1)


@pytest.fixture
async def env(kafka_bootstrap: str, unique_name: str) -> AsyncIterator[Env]:
    settings = Settings.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "MONITOR_APP_ID": unique_name,
            "MONITOR_TOPIC_ALERTS": f"{unique_name}.alerts",
            "MONITOR_TOPIC_WEBHOOK_DLQ": f"{unique_name}.webhook-dlq",
            "MONITOR_TOPIC_PARTITIONS": "2",
            "MONITOR_WEBHOOK_RETRY_SCHEDULE": "0.05,0.1,0.2",
            "MONITOR_WEBHOOK_TIMEOUT": "1",
            "MONITOR_WEBHOOK_CONNECT_TIMEOUT": "1",
            "MONITOR_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
            "MONITOR_WEBHOOK_ALLOW_HTTP": "true",
            "MONITOR_SHUTDOWN_TIMEOUT": "5",
        }
    )
    await ensure_topics(
        kafka_bootstrap, {settings.topic_alerts: 2, settings.topic_webhook_dlq: 2}, 1
    )
    yield Env(settings)


def sub(name: str, receiver: Receiver, filters: str = "{}") -> str:
    return (
        f"  - {{id: {name}, url: '{receiver.url}', allow_http: true,"
        f" secrets: [{{env: DESK_SECRET}}],"
        f" filters: {filters}}}\n"
    )


async def until(predicate: Callable[[], bool], within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - conditions span several receivers
            await asyncio.sleep(0.02)


OPTIONS = DeliveryOptions(breaker_threshold=50, poll_timeout=0.2)


async def test_signed_filtered_retried_with_one_webhook_id(env: Env) -> None:
    """Each subscriber gets the alerts its filters accept, signed per Standard Webhooks; a desk
    answering 500 three times gets the same alert again with one webhook-id, and no request more
    than those once every record is committed."""
    high, low = make_alert(1, severity="high"), make_alert(2, severity="low")
    async with (
        Receiver([SECRET], script=[500, 500, 500, 200]) as picky,
        Receiver([SECRET]) as everything,
    ):
        subs = env.subscriptions(
            "subscribers:\n"
            + sub("picky", picky, "{min_severity: high}")
            + sub("everything", everything)
        )
        await env.produce(high, low)
        async with Dispatcher(env.settings, subs, options=OPTIONS):
            await until(lambda: len(picky.delivered) == 1 and len(everything.delivered) == 2)
            # both records committed for both: each is done (delivered or filtered out), and
            # nothing can be sent for a done record, so what follows counts every request
            await env.committed_eventually("picky", 2)
            await env.committed_eventually("everything", 2)
        assert len(picky.requests) == 4
        assert {r.webhook_id for r in picky.requests} == {webhook_id("picky", high.alert_id)}
        assert [r.status for r in picky.requests] == [500, 500, 500, 200]
        for receiver in (picky, everything):
            for request in receiver.requests:
                headers = {
                    "webhook-id": request.webhook_id,
                    "webhook-timestamp": request.timestamp,
                    "webhook-signature": request.signature,
                }
                assert spec_verify(SECRET, headers, request.body)
        assert picky.requests[0].payload()["data"]["alert_id"] == high.alert_id
        assert sorted(r.payload()["data"]["alert_id"] for r in everything.delivered) == sorted(
            [high.alert_id, low.alert_id]
        )
        assert await env.committed("picky") == 2
        assert await env.committed("everything") == 2


async def test_retry_after_is_honoured(env: Env) -> None:
    async with Receiver([SECRET], script=[Reply(429, "1")]) as limited:
        subs = env.subscriptions("subscribers:\n" + sub("limited", limited))
        await env.produce(make_alert(1))
        async with Dispatcher(env.settings, subs, options=OPTIONS):
            await until(lambda: len(limited.delivered) == 1)
        first, second = limited.requests
        assert first.status == 429 and second.status == 200
        assert second.received_at - first.received_at >= 0.95


async def test_400_dead_lettered_410_disables_and_replay_redrives(env: Env) -> None:
    """A 400 is dead-lettered as rejected without a retry; a 410 disables the subscriber (dead
    letter gone), which then starts nothing written after it; a replay delivers the rejected
    alert again with its original webhook-id."""
    alert = make_alert(1)
    async with (
        Receiver([SECRET], script=[400]) as rejecting,
        Receiver([SECRET], script=[410]) as gone,
    ):
        subs = env.subscriptions("subscribers:\n" + sub("rejecting", rejecting) + sub("gone", gone))
        async with Dispatcher(env.settings, subs, options=OPTIONS) as dispatcher:
            await env.produce(alert)
            letters = await env.dead_letters(2)
            await until(lambda: dispatcher.disabled == {"gone"})
            await env.produce(make_alert(2))
            await until(lambda: len(rejecting.delivered) == 1)
            await env.committed_eventually("rejecting", 2)  # both done: no more requests
        # stopped: whatever had been started was drained and committed, so had the disabled
        # subscriber started the alert written after its 410, its offset would be committed
        assert await env.committed("gone") == 1
        assert [r.status for r in rejecting.requests] == [400, 200]  # 400 was not retried
        assert [r.status for r in gone.requests] == [410]  # disabled: nothing more
        by_subscriber = {letter.subscriber_id: letter for letter in letters}
        assert by_subscriber["rejecting"].reason == "rejected"
        assert by_subscriber["rejecting"].attempts == 1
        assert by_subscriber["rejecting"].last_status == 400
        assert by_subscriber["gone"].reason == "gone"
        assert by_subscriber["rejecting"].alert == alert

        report = await replay(env.settings, subs, "rejecting", None)
        assert report.matched == 1 and report.ok, report.summary()
        assert report.delivered == [webhook_id("rejecting", alert.alert_id)]
        replayed = rejecting.requests[-1]
        assert replayed.status == 200
        assert replayed.webhook_id == rejecting.requests[0].webhook_id
        assert replayed.payload()["data"]["alert_id"] == alert.alert_id


async def test_hanging_receiver_does_not_delay_another(env: Env) -> None:
    warm_up, *alerts = [make_alert(n) for n in range(1, 5)]
    async with (
        Receiver([SECRET], script=[Reply(hang=True)] * 20) as hanging,
        Receiver([SECRET]) as fast,
    ):
        subs = env.subscriptions("subscribers:\n" + sub("hanging", hanging) + sub("fast", fast))
        async with Dispatcher(env.settings, subs, options=OPTIONS):
            await env.produce(warm_up)  # both consumers have joined once this went through
            await until(lambda: len(hanging.requests) >= 1 and len(fast.delivered) == 1)
            started = time.monotonic()
            await env.produce(*alerts)
            await until(lambda: len(fast.delivered) == 4)
            elapsed = time.monotonic() - started
            assert hanging.delivered == []
        assert elapsed < env.settings.webhook_timeout, elapsed


@pytest.mark.timeout(150)
@pytest.mark.slow
async def test_410_with_two_workers_disables_each_loses_nothing_and_a_restart_asks_again(
    env: Env,
) -> None:
    """The documented choice for a 410 with several workers (deliver/dispatcher.py): each worker
    disables the subscriber on its own 410, in memory; every alert is then either dead-lettered
    or still uncommitted in Kafka, alerts written after the 410 are left there (not dead-lettered,
    not delivered), and a worker started later asks the desk again and delivers all that waited
    once the desk is back."""
    first = [make_alert(n) for n in range(1, 7)]
    late = [make_alert(n) for n in range(7, 11)]
    async with Receiver([SECRET], script=[410] * 100) as gone:
        subs = env.subscriptions("subscribers:\n" + sub("gone", gone))
        async with (
            Dispatcher(env.settings, subs, options=OPTIONS) as one,
            Dispatcher(env.settings, subs, options=OPTIONS) as two,
        ):
            workers = (one.deliveries["gone"], two.deliveries["gone"])
            await until(lambda: all(len(w.assignment()) == 1 for w in workers), within=60)
            placed = await env.produce(*first[:3], partition=0) | await env.produce(
                *first[3:], partition=1
            )
            await until(lambda: one.disabled == two.disabled == {"gone"})
            placed |= await env.produce(*late[:2], partition=0) | await env.produce(
                *late[2:], partition=1
            )
        port = gone.port
    assert gone.requests and all(r.status == 410 for r in gone.requests)
    assert len(gone.requests) >= 2  # one 410 per worker at least: neither knew of the other's

    letters = {
        letter.alert.alert_id: letter
        for letter in await env.all_dead_letters()
        if letter.alert is not None
    }
    assert {letter.reason for letter in letters.values()} <= {"gone", "disabled"}
    assert sum(letter.reason == "gone" for letter in letters.values()) >= 2
    committed = await env.committed_offsets("gone")
    waiting = {
        alert_id
        for alert_id, (partition, offset) in placed.items()
        if offset >= committed.get(partition, 0)
    }
    assert set(letters) | waiting == set(placed)  # nothing lost: dead-lettered or in Kafka
    assert not set(letters) & waiting  # nothing both: a dead letter was committed
    assert {a.alert_id for a in late} <= waiting

    async with Receiver([SECRET], port=port) as back:  # the desk is back, same URL
        async with Dispatcher(env.settings, subs, options=OPTIONS):
            await until(lambda: len(back.delivered) >= len(waiting), within=60)
    assert {r.payload()["data"]["alert_id"] for r in back.delivered} == waiting


async def _produce_raw(env: Env, partition: int, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=env.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(env.settings.topic_alerts, value, partition=partition)
    finally:
        await producer.stop()


DESK = "  - {id: desk, url: 'https://desk.example/hooks', secrets: [{env: DESK_SECRET}]}\n"


async def test_an_alert_the_delivery_raises_on_is_dead_lettered_and_its_partition_goes_on(
    env: Env,
) -> None:
    """An unexpected exception while delivering one alert (here the HTTP layer raises a plain
    RuntimeError) no longer kills that record's task: the alert is dead-lettered as
    ``processing_failed`` with the exception, its partition and offset, and the alert itself (so
    a replay can deliver it once the bug is fixed), it is counted, and the alert after it on the
    same partition is delivered and both offsets are committed. Before, the record stayed undone
    and the partition committed nothing more for that subscriber."""
    broken, after = make_alert(1), make_alert(2)
    delivered: list[str] = []

    def desk(request: httpx.Request) -> httpx.Response:
        alert_id = json.loads(request.content)["data"]["alert_id"]
        if alert_id == broken.alert_id:
            raise RuntimeError("a bug in the delivery code")
        delivered.append(alert_id)
        return httpx.Response(200)

    registry = CollectorRegistry()
    subs = env.subscriptions("subscribers:\n" + DESK)
    await env.produce(broken, after, partition=0)
    async with Dispatcher(
        env.settings,
        subs,
        options=OPTIONS,
        observer=Metrics(registry),
        transport=httpx.MockTransport(desk),
    ):
        [letter] = await env.dead_letters(1)
        await until(lambda: delivered == [after.alert_id])
        await env.offsets_eventually("desk", {0: 2})
    assert letter.reason == "processing_failed"
    assert letter.last_error == "RuntimeError: a bug in the delivery code"
    assert (letter.partition, letter.offset) == (0, 0)
    assert letter.alert == broken and letter.raw is None
    assert letter.webhook_id == webhook_id("desk", broken.alert_id)
    labels = {"subscriber": "desk", "reason": "processing_failed"}
    assert registry.get_sample_value("monitor_webhook_processing_errors_total", labels) == 1
    dead = registry.get_sample_value("monitor_webhook_dead_lettered_total", {"subscriber": "desk"})
    assert dead == 1


async def test_a_fetch_loop_that_raises_goes_on_and_delivers(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn of a subscriber's fetch loop that raises something unexpected (here the poll
    raises a plain RuntimeError twice, as a bug would) is logged and counted as ``loop_failed``,
    and the loop goes on: the alert waiting in Kafka is delivered and committed. Before, the
    loop's task ended, the worker ran on, and the desk received nothing more until a restart."""
    alert = make_alert(1)
    failures = 2
    getmany = AIOKafkaConsumer.getmany

    async def flaky_getmany(
        self: AIOKafkaConsumer, *partitions: TopicPartition, **kwargs: int
    ) -> object:
        nonlocal failures
        if failures:
            failures -= 1
            raise RuntimeError("a bug in the fetch loop")
        return await getmany(self, *partitions, **kwargs)

    monkeypatch.setattr(AIOKafkaConsumer, "getmany", flaky_getmany)
    registry = CollectorRegistry()
    async with Receiver([SECRET]) as receiver:
        subs = env.subscriptions("subscribers:\n" + sub("desk", receiver))
        await env.produce(alert, partition=0)
        async with Dispatcher(env.settings, subs, options=OPTIONS, observer=Metrics(registry)):
            await until(lambda: len(receiver.delivered) == 1)
            await env.offsets_eventually("desk", {0: 1})
    assert failures == 0
    assert receiver.delivered[0].payload()["data"]["alert_id"] == alert.alert_id
    labels = {"subscriber": "desk", "reason": "loop_failed"}
    assert registry.get_sample_value("monitor_webhook_processing_errors_total", labels) == 2


async def test_a_record_that_is_not_an_alert_is_dead_lettered_with_its_bytes(env: Env) -> None:
    """A record on the alerts topic that does not decode as an alert is dead-lettered for each
    subscriber as ``undecodable``, with its raw bytes, partition and offset, and counted; the
    alert after it is delivered and both are committed. A replay lists the letter as
    unreplayable (exit code 1), it does not vanish. Before, it was skipped with a log line."""
    good = make_alert(1)
    garbage = b"\xff not an alert"
    registry = CollectorRegistry()
    async with Receiver([SECRET]) as receiver:
        subs = env.subscriptions("subscribers:\n" + sub("desk", receiver))
        await _produce_raw(env, 0, garbage)
        await env.produce(good, partition=0)
        async with Dispatcher(env.settings, subs, options=OPTIONS, observer=Metrics(registry)):
            [letter] = await env.dead_letters(1)
            await until(lambda: len(receiver.delivered) == 1)
            await env.offsets_eventually("desk", {0: 2})
        report = await replay(env.settings, subs, "desk", None)
    assert letter.reason == "undecodable"
    assert letter.raw == garbage and letter.alert is None and letter.webhook_id is None
    assert (letter.partition, letter.offset) == (0, 0)
    assert letter.last_error is not None
    labels = {"subscriber": "desk", "reason": "undecodable"}
    assert registry.get_sample_value("monitor_webhook_processing_errors_total", labels) == 1
    assert receiver.delivered[0].payload()["data"]["alert_id"] == good.alert_id
    assert not report.ok and report.delivered == []
    assert report.unreplayable == [
        (f"{env.settings.topic_alerts} 0/0", "undecodable: not an alert")
    ]


async def test_a_dead_letter_too_large_for_its_topic_is_written_without_its_body(
    env: Env, unique_name: str
) -> None:
    """When the dead-letter topic refuses a letter as too large (a topic with a small
    ``max.message.bytes``, a real broker's answer), the letter is written again at once without
    the alert, pointing at the alert's partition and offset on the alerts topic, and the offset
    is committed: the partition is not stalled retrying what can never succeed. A replay reads
    the alert back from the alerts topic and delivers it with its original webhook-id."""
    settings = dataclasses.replace(env.settings, topic_webhook_dlq=f"{unique_name}.small-dlq")
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        {settings.topic_webhook_dlq: 2},
        1,
        configs={settings.topic_webhook_dlq: {"max.message.bytes": "3000"}},
    )
    big = msgspec.structs.replace(make_alert(1), article_title="x" * 4000)
    async with Receiver([SECRET], script=[400]) as receiver:
        subs = env.subscriptions("subscribers:\n" + sub("desk", receiver))
        await env.produce(big, partition=0)
        async with Dispatcher(settings, subs, options=OPTIONS):
            [letter] = await Env(settings).dead_letters(1)
            await env.offsets_eventually("desk", {0: 1})
        report = await replay(settings, subs, "desk", None)
        assert report.ok, report.summary()
    assert letter.reason == "rejected" and letter.body_dropped
    assert letter.alert is None and letter.raw is None
    assert (letter.partition, letter.offset) == (0, 0)
    assert letter.webhook_id == webhook_id("desk", big.alert_id)
    assert [r.status for r in receiver.requests] == [400, 200]
    assert receiver.requests[1].webhook_id == letter.webhook_id
    assert receiver.requests[1].payload()["data"]["alert_id"] == big.alert_id
