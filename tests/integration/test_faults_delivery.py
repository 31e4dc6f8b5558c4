"""Faults in delivery (issue 7, fault 4): one desk's receiver is down for a while, then up again.

What ``monitor.deliver`` promises, and so what is tested: a connection refused is a retriable
attempt; each subscriber has its own consumer, circuit breaker and request slots; the breaker opens
after 5 consecutive failures and then lets one probe through every 30 s (``DeliveryOptions``
defaults, which the worker uses); alerts waiting for the breaker spend no attempts, so an outage
shorter than the breaker's cooldown dead-letters nothing whatever the retry schedule, and the
first probe after the receiver is back closes the circuit and releases every held alert, each with
its deterministic ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from monitor.article import parse_article
from monitor.deliver.receiver import Receiver
from monitor.deliver.webhook import webhook_id
from monitor.pipeline import Pipeline
from monitor.producer import produce_files
from monitor.settings import Settings
from tests.worker_support import (
    REPO,
    Topics,
    WorkerProcess,
    desks_environ,
    metric_value,
    sample_copies,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

SECRETS = {
    "a": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "b": "whsec_ZGVzay1iLXNlY3JldC1vZi0zMi1ieXRlcy1sb25nISE=",
}
# Short first retries, so the breaker opens within a second of the outage; 8 attempts before an
# alert is given up, which the open breaker keeps it from reaching while the desk is down.
RETRY_SCHEDULE = "0.2,0.5,1,2,4,8,16"
BREAKER_THRESHOLD = 5
BREAKER_COOLDOWN = 30.0
B_LAG_BUDGET = 5.0
"""Seconds from an alert's timestamp on ``alerts`` to desk B's 2xx, outage or not: well under
the breaker's cooldown, which is what B would wait if A's outage held it up."""
CIRCUIT_OPEN = 2.0
CIRCUIT_CLOSED = 0.0


async def _until(
    what: str, condition: Callable[[], bool], worker: WorkerProcess, within: float
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}\n{worker.tail()}")
        await asyncio.sleep(0.1)


async def _alert_times(
    bootstrap: str,
    topic: str,
    partitions: int,
    expected: set[str],
    within: float,
    settle: float = 2.0,
) -> dict[str, float]:
    """alert_id -> the record's timestamp (s since the epoch, set by the worker's producer) of
    every alert on ``topic``, once ``expected`` are all there and ``settle`` s brought no more."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    found: dict[str, float] = {}
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + within
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    alert_id = json.loads(record.value or b"{}")["alert_id"]
                    found.setdefault(alert_id, record.timestamp / 1000)
            if expected <= found.keys():
                quiet_since = time.monotonic() if batch or quiet_since is None else quiet_since
                if time.monotonic() - quiet_since >= settle:
                    return found
    finally:
        await consumer.stop()
    raise AssertionError(f"missing on {topic} after {within} s: {sorted(expected - found.keys())}")


async def _records_in(bootstrap: str, topic: str, partitions: int) -> int:
    """How many records ``topic`` ever received."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


def _by_alert(receiver: Receiver) -> dict[str, list[str | None]]:
    """alert_id -> the webhook-ids it was delivered with (verified, 2xx)."""
    out: dict[str, list[str | None]] = {}
    for request in receiver.delivered:
        out.setdefault(request.payload()["data"]["alert_id"], []).append(request.webhook_id)
    return out


async def test_desk_down_then_up_gets_every_alert_and_the_other_desk_is_not_held_up(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """Desk A's receiver is stopped (nothing listens on its port) after a first delivery, while
    at least 20 more alerts flow. Meanwhile desk B gets every alert within 5 s of it being on
    ``alerts``; A's attempts fail until its circuit opens, and nothing is dead-lettered. A comes
    back on the same port: within the breaker's cooldown (plus headroom) A has every alert, each
    with the one ``webhook-id`` of (desk-a, alert), the circuit is closed again, and the webhook
    dead-letter topic is still empty: zero lost, zero given up."""
    topics = Topics(unique_name)
    warm_up = sample_copies(tmp_path / "warm-up.jsonl", copies=1, tag="w")[:1]
    flow = sample_copies(tmp_path / "flow.jsonl", copies=4, tag="f")
    async with Receiver([SECRETS["a"]]) as desk_a, Receiver([SECRETS["b"]]) as desk_b:
        desks = {"a": (desk_a.url, SECRETS["a"]), "b": (desk_b.url, SECRETS["b"])}
        env = desks_environ(tmp_path, desks, retry_schedule=RETRY_SCHEDULE)
        worker = WorkerProcess(kafka_bootstrap, topics, tmp_path / "worker.log", extra_env=env)

        async def metric(name: str, **labels: str) -> float:
            # off the event loop, which serves both desks; asked again while the worker is busy
            for _ in range(10):
                status, body = await asyncio.to_thread(worker.get, "/metrics")
                if status:
                    break
            assert status == 200, (status, body, worker.tail())
            return metric_value(body, name, **labels)

        with worker:
            # what the worker should publish, worked out offline while it starts
            pipeline = Pipeline.from_paths(REPO / "rules")
            now = datetime.now(UTC)

            def alert_ids(messages: list[bytes]) -> set[str]:
                return {
                    a.alert_id
                    for raw in messages
                    for a in pipeline.process(parse_article(raw), now)
                }

            first, expected = alert_ids(warm_up), alert_ids(flow)
            assert len(first) == 1 and len(expected) >= 20
            await worker.wait_ready()
            settings = dataclasses.replace(
                Settings.from_env(worker.environ()), kafka_bootstrap_servers=kafka_bootstrap
            )
            await produce_files(settings, topics.articles, [tmp_path / "warm-up.jsonl"], raw=False)
            await _until(
                "the first alert at both desks",
                lambda: first <= _by_alert(desk_a).keys() and first <= _by_alert(desk_b).keys(),
                worker,
                90,
            )

            port = desk_a.port
            await desk_a.stop()
            down_requests = len(desk_a.requests)
            await produce_files(settings, topics.articles, [tmp_path / "flow.jsonl"], raw=False)
            on_topic = await _alert_times(
                kafka_bootstrap, topics.alerts, settings.topic_partitions, first | expected, 90
            )
            flowed = set(on_topic) - first
            await _until(
                "desk B has every alert while A is down",
                lambda: flowed <= _by_alert(desk_b).keys(),
                worker,
                60,
            )
            offset = time.time() - time.monotonic()  # B's monotonic receive times -> epoch
            b_at: dict[str, float] = {}
            for request in desk_b.delivered:
                b_at.setdefault(request.payload()["data"]["alert_id"], request.received_at + offset)
            lags = sorted(b_at[a] - on_topic[a] for a in flowed)
            print(
                f"desk B during A's outage: {len(lags)} alerts, lag median "
                f"{statistics.median(lags):.2f} s, max {lags[-1]:.2f} s"
            )
            assert lags[-1] < B_LAG_BUDGET, lags

            deadline = time.monotonic() + 30
            while (
                await metric("monitor_webhook_circuit_state", subscriber="desk-a") != CIRCUIT_OPEN
            ):
                assert time.monotonic() < deadline, (
                    f"desk A's circuit did not open\n{worker.tail()}"
                )
                await asyncio.sleep(0.2)
            failed = await metric(
                "monitor_webhook_attempts_total", subscriber="desk-a", outcome="retriable"
            )
            assert failed >= BREAKER_THRESHOLD
            assert await metric("monitor_webhook_dead_lettered_total", subscriber="desk-a") == 0
            assert len(desk_a.requests) == down_requests  # nothing listened

            await desk_a.start()
            assert desk_a.port == port
            up_at = time.monotonic()
            await _until(
                "desk A has every alert after it came back",
                lambda: set(on_topic) <= _by_alert(desk_a).keys(),
                worker,
                BREAKER_COOLDOWN + 45,
            )
            resumed = min(r.received_at for r in desk_a.requests[down_requests:]) - up_at
            done = max(r.received_at for r in desk_a.delivered) - up_at
            print(
                f"desk A back: {failed:.0f} failed attempts during the outage, first delivery "
                f"{resumed:.1f} s and the last {done:.1f} s after it came back"
            )

            for name, desk in (("a", desk_a), ("b", desk_b)):
                ids = _by_alert(desk)
                assert set(on_topic) <= ids.keys()
                assert all(r.verified for r in desk.requests)
                for alert_id, webhook_ids in ids.items():
                    assert set(webhook_ids) == {webhook_id(f"desk-{name}", alert_id)}, alert_id
            circuit = await metric("monitor_webhook_circuit_state", subscriber="desk-a")
            assert circuit == CIRCUIT_CLOSED
            assert await metric("monitor_webhook_dead_lettered_total", subscriber="desk-a") == 0
            assert (
                await _records_in(kafka_bootstrap, topics.webhook_dlq, settings.topic_partitions)
                == 0
            )
            assert worker.terminate(within=60) == 0, worker.tail()
