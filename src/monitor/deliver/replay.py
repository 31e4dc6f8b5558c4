"""``monitor webhooks replay``: re-drive one subscriber's dead letters.

Reads ``settings.topic_webhook_dlq`` from the beginning with a group-less consumer (nothing is
committed: a replay never changes what the next replay sees), up to the end offsets taken at the
start, keeps that subscriber's letters (dead-lettered at or after ``since``), one per
``webhook-id`` (the latest), and delivers each once more with the normal retry policy, with the
same ``webhook-id`` so the desk can deduplicate. Letters that fail again stay in the topic.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

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

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        lines = [
            f"replay {self.subscriber_id}: scanned {self.scanned} dead letter(s), "
            f"{self.matched} for this subscriber ({self.duplicates} duplicate(s) skipped), "
            f"{len(self.delivered)} delivered, {len(self.failed)} failed"
            + (f", {self.undecodable} undecodable" if self.undecodable else "")
        ]
        lines += [f"  failed {msg_id}: {error}" for msg_id, error in self.failed]
        return "\n".join(lines)


def _header(headers: object, name: str) -> bytes | None:
    for key, value in headers or ():  # type: ignore[attr-defined]
        if key == name:
            return bytes(value)
    return None


async def read_dead_letters(
    settings: Settings, subscriber_id: str, since: datetime | None, report: ReplayReport
) -> list[DeadLetter]:
    """The subscriber's letters currently in the topic, the latest per webhook-id."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        client_id=f"{settings.app_id}-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    letters: dict[str, DeadLetter] = {}
    try:
        await consumer.start()
        # the topic has topic_partitions partitions: ensure_topics refuses to start otherwise
        topic = settings.topic_webhook_dlq
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
                    if letter.webhook_id in letters:
                        report.duplicates += 1
                        del letters[letter.webhook_id]
                    letters[letter.webhook_id] = letter
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    except KafkaError as exc:
        raise PublishError(f"reading {settings.topic_webhook_dlq}: {exc}", retriable=True) from exc
    finally:
        await consumer.stop()
    return list(letters.values())


async def replay(
    settings: Settings,
    subscriptions: Subscriptions,
    subscriber_id: str,
    since: datetime | None,
    *,
    observer: DeliveryObserver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = resolve_host,
    rng: random.Random | None = None,
    concurrency: int = 8,
) -> ReplayReport:
    """Re-deliver ``subscriber_id``'s dead letters (dead-lettered at/after ``since``, tz-aware).

    Raises ``ConfigError`` for an unknown subscriber, ``PublishError`` when Kafka is unreachable.
    """
    subscription = subscriptions.get(subscriber_id)
    if subscription is None:
        known = ", ".join(s.id for s in subscriptions) or "none"
        raise ConfigError("--subscriber", f"unknown subscriber {subscriber_id!r} (known: {known})")
    report = ReplayReport(subscriber_id)
    letters = await read_dead_letters(settings, subscriber_id, since, report)
    if not letters:
        return report
    sender = WebhookSender(settings, transport=transport, resolve=resolve)
    attempts = Attempts(
        sender=sender,
        policy=RetryPolicy(settings.webhook_retry_schedule, rng or random.Random()),
        breaker=CircuitBreaker(),
        slots=asyncio.Semaphore(concurrency),
        observer=observer or NoopObserver(),
    )
    halt = asyncio.Event()

    async def one(letter: DeadLetter) -> None:
        request = build_request(subscription, letter.alert)
        if request.msg_id != letter.webhook_id:
            log.warning("dead letter %s was for another id scheme", letter.webhook_id)
        result = await attempts.deliver(request, halt)
        if result.outcome == "delivered":
            report.delivered.append(request.msg_id)
        else:
            report.failed.append((request.msg_id, result.last_error or result.outcome))

    try:
        await asyncio.gather(*(one(letter) for letter in letters))
    finally:
        await sender.stop()
    return report
