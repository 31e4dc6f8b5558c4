"""``monitor webhooks replay``: re-drive one subscriber's dead letters.

Reads ``settings.topic_webhook_dlq`` from the beginning with a group-less consumer (nothing is
committed: a replay never changes what the next replay sees), up to the end offsets taken at the
start, keeps that subscriber's letters (dead-lettered at or after ``since``), one per
``webhook-id`` (the latest), and delivers each once more, with the same ``webhook-id`` so the
desk can deduplicate.

A replay is bounded: it retries on its own short schedule (``REPLAY_RETRY_SCHEDULE``, not the
worker's day-long one) and gives up what is not delivered after ``deadline`` seconds (a desk still
down leaves alerts waiting for its circuit breaker, which spends no attempts). Letters that fail
again are listed in the report (``failed``, and the CLI exits 1) and stay in the topic as they
were, since nothing is committed: the next replay tries them again. A letter without its alert
(``undecodable``, or a ``processing_failed`` record that was not an alert) cannot be delivered:
it is listed as ``unreplayable``. A letter whose body Kafka refused as too large is delivered
with the alert read back from the alerts topic at the letter's partition and offset, if the
topic still has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from monitor.alert import Alert, decode_alert
from monitor.deliver.attempts import Attempts
from monitor.deliver.breaker import CircuitBreaker
from monitor.deliver.deadletter import HEADER_SUBSCRIBER, DeadLetter, decode_dead_letter
from monitor.deliver.destination import Resolver, resolve_host
from monitor.deliver.observer import DeliveryObserver, NoopObserver
from monitor.deliver.retry import RetryPolicy
from monitor.deliver.subscriptions import Subscriptions
from monitor.deliver.webhook import WebhookSender, build_request
from monitor.errors import ConfigError, PublishError
from monitor.settings import Settings

log = logging.getLogger(__name__)

REPLAY_RETRY_SCHEDULE: tuple[float, ...] = (1.0, 5.0, 30.0)
"""Base delays between a replayed letter's attempts: 4 attempts within about half a minute."""
REPLAY_DEADLINE = 600.0
"""Seconds after which a replay gives up the letters it has not delivered (reported failed)."""
POLL_SECONDS = 0.5
IDLE_POLLS = 20
"""Empty polls in a row before a read that has not reached the end offsets gives up."""


@dataclass
class ReplayReport:
    """What a replay found and did; ``summary()`` is what the CLI prints."""

    subscriber_id: str
    scanned: int = 0
    matched: int = 0
    duplicates: int = 0
    undecodable: int = 0
    delivered: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(webhook-id, last error) of the letters that failed again."""
    unreplayable: list[tuple[str, str]] = field(default_factory=list)
    """(where, why) of the letters without an alert to deliver."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unreplayable

    def summary(self) -> str:
        lines = [
            f"replay {self.subscriber_id}: scanned {self.scanned} dead letter(s), "
            f"{self.matched} for this subscriber ({self.duplicates} duplicate(s) skipped), "
            f"{len(self.delivered)} delivered, {len(self.failed)} failed"
            + (f", {self.undecodable} undecodable" if self.undecodable else "")
            + (f", {len(self.unreplayable)} unreplayable" if self.unreplayable else "")
        ]
        lines += [f"  failed {msg_id}: {error}" for msg_id, error in self.failed]
        lines += [f"  unreplayable {where}: {why}" for where, why in self.unreplayable]
        return "\n".join(lines)


def _header(headers: object, name: str) -> bytes | None:
    for key, value in headers or ():  # type: ignore[attr-defined]
        if key == name:
            return bytes(value)
    return None


@contextlib.asynccontextmanager
async def _reading(settings: Settings, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer outside any group for a replay's reads, read-committed, from the earliest
    offset kept; a Kafka error while reading ``topic`` is a retriable ``PublishError``."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        client_id=f"{settings.app_id}-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    try:
        await consumer.start()
        yield consumer
    except KafkaError as exc:
        raise PublishError(f"reading {topic}: {exc}", retriable=True) from exc
    finally:
        await consumer.stop()


async def read_dead_letters(
    settings: Settings, subscriber_id: str, since: datetime | None, report: ReplayReport
) -> list[DeadLetter]:
    """The subscriber's letters currently in the topic, the latest per webhook-id."""
    letters: dict[str, DeadLetter] = {}
    topic = settings.topic_webhook_dlq
    async with _reading(settings, topic) as consumer:
        # the topic has topic_partitions partitions: ensure_topics refuses to start otherwise
        tps = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > 0}
        idle = 0
        while remaining:
            if idle >= IDLE_POLLS:
                # a replay of part of the letters would report success: say what is missing
                behind = ", ".join(
                    [
                        f"{tp.partition} at {await consumer.position(tp)} of {end[tp]}"
                        for tp in sorted(remaining, key=lambda tp: tp.partition)
                    ]
                )
                raise PublishError(
                    f"reading {topic}: nothing came for {IDLE_POLLS * POLL_SECONDS:g} s before "
                    f"the end of partition(s) {behind}; nothing was replayed",
                    retriable=True,
                )
            batch = await consumer.getmany(timeout_ms=int(POLL_SECONDS * 1000))
            idle = 0 if batch else idle + 1
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= end[tp]:
                        continue
                    report.scanned += 1
                    if _header(record.headers, HEADER_SUBSCRIBER) != subscriber_id.encode():
                        continue
                    try:
                        letter = decode_dead_letter(record.value or b"")
                    except msgspec.DecodeError:
                        report.undecodable += 1
                        continue
                    if since is not None and letter.dead_lettered_at < since:
                        continue
                    report.matched += 1
                    key = letter.webhook_id or f"{letter.partition}/{letter.offset}"
                    if key in letters:
                        report.duplicates += 1
                        del letters[key]
                    letters[key] = letter
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    return list(letters.values())


async def read_alerts(
    settings: Settings, positions: set[tuple[int, int]]
) -> dict[tuple[int, int], Alert]:
    """The alerts at these (partition, offset)s of the alerts topic, those it still has."""
    found: dict[tuple[int, int], Alert] = {}
    if not positions:
        return found
    # an offset already deleted reads from the oldest kept (auto_offset_reset="earliest")
    async with _reading(settings, settings.topic_alerts) as consumer:
        tps = {p: TopicPartition(settings.topic_alerts, p) for p, _ in positions}
        consumer.assign(list(tps.values()))
        end = await consumer.end_offsets(list(tps.values()))
        for partition, offset in sorted(positions):
            tp = tps[partition]
            if offset >= end[tp]:
                continue
            consumer.seek(tp, offset)
            for _ in range(IDLE_POLLS):
                records = (await consumer.getmany(tp, timeout_ms=int(POLL_SECONDS * 1000))).get(
                    tp, []
                )
                if records:
                    if records[0].offset == offset:
                        with contextlib.suppress(msgspec.DecodeError):
                            found[(partition, offset)] = decode_alert(records[0].value or b"")
                    break
    return found


async def replay(
    settings: Settings,
    subscriptions: Subscriptions,
    subscriber_id: str,
    since: datetime | None,
    *,
    schedule: Sequence[float] = REPLAY_RETRY_SCHEDULE,
    deadline: float = REPLAY_DEADLINE,
    observer: DeliveryObserver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = resolve_host,
    rng: random.Random | None = None,
    concurrency: int = 8,
) -> ReplayReport:
    """Re-deliver ``subscriber_id``'s dead letters (dead-lettered at/after ``since``, tz-aware),
    each retried on ``schedule``; what is not delivered after ``deadline`` s is reported failed.

    Raises ``ConfigError`` for an unknown subscriber or a bad schedule or deadline,
    ``PublishError`` when Kafka is unreachable.
    """
    subscription = subscriptions.get(subscriber_id)
    if subscription is None:
        known = ", ".join(s.id for s in subscriptions) or "none"
        raise ConfigError("--subscriber", f"unknown subscriber {subscriber_id!r} (known: {known})")
    try:
        policy = RetryPolicy(tuple(schedule), rng or random.Random())
    except ValueError as exc:
        raise ConfigError("--retry-schedule", str(exc)) from exc
    if not deadline > 0:
        raise ConfigError("--deadline", f"must be a positive number of seconds, not {deadline}")
    report = ReplayReport(subscriber_id)
    letters = await read_dead_letters(settings, subscriber_id, since, report)
    kept = await read_alerts(
        settings,
        {
            (letter.partition, letter.offset)
            for letter in letters
            if letter.body_dropped and letter.partition is not None and letter.offset is not None
        },
    )
    deliverable: list[tuple[DeadLetter, Alert]] = []
    for letter in letters:
        where = letter.webhook_id or f"{settings.topic_alerts} {letter.partition}/{letter.offset}"
        alert = letter.alert
        if alert is None and letter.body_dropped:
            if letter.partition is not None and letter.offset is not None:
                alert = kept.get((letter.partition, letter.offset))
            if alert is None:
                report.failed.append(
                    (
                        where,
                        f"the letter has no body and {settings.topic_alerts} no longer has the "
                        f"alert at partition {letter.partition} offset {letter.offset}",
                    )
                )
                continue
        if alert is None:
            report.unreplayable.append((where, f"{letter.reason}: not an alert"))
            continue
        deliverable.append((letter, alert))
    if not deliverable:
        return report
    sender = WebhookSender(settings, transport=transport, resolve=resolve)
    attempts = Attempts(
        sender=sender,
        policy=policy,
        breaker=CircuitBreaker(),
        slots=asyncio.Semaphore(concurrency),
        observer=observer or NoopObserver(),
    )
    halt = asyncio.Event()

    async def one(letter: DeadLetter, alert: Alert) -> None:
        request = build_request(subscription, alert)
        if letter.webhook_id is not None and request.msg_id != letter.webhook_id:
            log.warning("dead letter %s was for another id scheme", letter.webhook_id)
        result = await attempts.deliver(request, halt)
        if result.outcome == "delivered":
            report.delivered.append(request.msg_id)
        elif result.outcome == "halted":
            error = f"not delivered within the replay's {deadline:g} s"
            last = f" (last: {result.last_error})" if result.last_error else ""
            report.failed.append((request.msg_id, error + last))
        else:
            report.failed.append((request.msg_id, result.last_error or result.outcome))

    async def give_up() -> None:
        await asyncio.sleep(deadline)
        halt.set()

    timer = asyncio.create_task(give_up())
    try:
        await asyncio.gather(*(one(letter, alert) for letter, alert in deliverable))
    finally:
        timer.cancel()
        await sender.stop()
    return report
