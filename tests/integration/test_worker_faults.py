"""Faults on real parts: a worker SIGKILLed mid-stream (restarted, or taken over by the other worker
of its group) and a broker stopped under load lose no alert, and no story decision."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from monitor import story
from monitor.article import parse_article
from monitor.deliver.receiver import Receiver
from monitor.pipeline import Pipeline
from monitor.producer import produce_files
from monitor.settings import Settings
from tests.worker_support import (
    REPO,
    Record,
    Topics,
    WorkerProcess,
    desks_environ,
    read_topic,
    sample_copies,
)
from tools.localkafka import Broker

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]

STORY_WINDOW = timedelta(hours=72)
OUTAGE = 12.0  # seconds without a broker (the issue asks for 10-20 s)

SECRETS = (
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_ZGVzay1iLXNlY3JldC1vZi0zMi1ieXRlcy1sb25nISE=",
)


def _expected_alerts(messages: list[bytes]) -> set[str]:
    """The alert ids the pure pipeline gives for ``messages`` (the worker must publish each)."""
    pipeline = Pipeline.from_paths(REPO / "rules")
    now = datetime.now(UTC)
    return {a.alert_id for raw in messages for a in pipeline.process(parse_article(raw), now)}


def _alerts(records: list[Record]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


def _covers(expected: set[str]) -> Callable[[list[Record]], bool]:
    return lambda records: expected <= {a["alert_id"] for a in _alerts(records)}


async def _produce(worker: WorkerProcess, path: Path) -> None:
    settings = dataclasses.replace(
        Settings.from_env(worker.environ()), kafka_bootstrap_servers=worker.bootstrap
    )
    await produce_files(settings, worker.topics.articles, [path], raw=False)


async def test_sigkill_mid_stream_then_restart_delivers_every_alert_to_every_desk(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """Kill -9 while alerts flow; after a restart every expected alert is on ``alerts`` and at
    both receivers at least once, and a re-delivered alert carries the same ``webhook-id``."""
    topics = Topics(unique_name)
    messages = sample_copies(tmp_path / "articles.jsonl", copies=6)
    pipeline = Pipeline.from_paths(REPO / "rules")
    now = datetime.now(UTC)
    expected = {
        alert.alert_id for raw in messages for alert in pipeline.process(parse_article(raw), now)
    }
    assert len(expected) >= 20

    async with Receiver([SECRETS[0]]) as desk_a, Receiver([SECRETS[1]]) as desk_b:
        desks = {"a": (desk_a.url, SECRETS[0]), "b": (desk_b.url, SECRETS[1])}
        env = desks_environ(tmp_path, desks, retry_schedule="0.1,0.2")
        log = tmp_path / "worker.log"
        first = WorkerProcess(kafka_bootstrap, topics, log, extra_env=env)
        with first:
            await first.wait_ready()
            settings = dataclasses.replace(
                Settings.from_env(first.environ()), kafka_bootstrap_servers=kafka_bootstrap
            )
            await produce_files(settings, topics.articles, [tmp_path / "articles.jsonl"], raw=False)
            await desk_a.wait_for(3, within=90)
            first.kill()  # SIGKILL: no drain, no commit
        killed_at = len(desk_a.requests), len(desk_b.requests)

        second = WorkerProcess(kafka_bootstrap, topics, log, extra_env=env)
        with second:
            await second.wait_ready()

            def covered(records: list[Record]) -> bool:
                return expected <= {json.loads(r.value)["alert_id"] for r in records}

            on_topic = await read_topic(kafka_bootstrap, topics.alerts, until=covered, within=120)
            missing = expected - {json.loads(r.value)["alert_id"] for r in on_topic}
            assert not missing, f"missing on the alerts topic: {missing}\n{second.tail()}"
            for desk in (desk_a, desk_b):
                deadline = asyncio.get_running_loop().time() + 120
                while asyncio.get_running_loop().time() < deadline:
                    got = {r.payload()["data"]["alert_id"] for r in desk.delivered}
                    if expected <= got:
                        break
                    await asyncio.sleep(0.5)
                got = {r.payload()["data"]["alert_id"] for r in desk.delivered}
                assert not expected - got, f"missing at a desk after restart: {expected - got}"
                ids: dict[str, set[str | None]] = {}
                for r in desk.delivered:
                    ids.setdefault(r.payload()["data"]["alert_id"], set()).add(r.webhook_id)
                assert all(len(v) == 1 for v in ids.values()), "a re-delivery changed webhook-id"
            assert second.terminate(within=60) == 0, second.tail()
    assert killed_at[0] >= 3


def _story_article(article_id: str, source: str, language: str, title: str, text: str) -> bytes:
    doc = {
        "id": article_id,
        "url": f"https://example.test/{source}/{article_id}",
        "source": source,
        "published_at": "2026-03-03T09:00:00Z",
        "language": language,
        "title": title,
        "text": text,
    }
    return json.dumps(doc, ensure_ascii=False).encode()


# Two reports of one (invented) event from two sources in two languages: one story.
GEORGIA_EN = _story_article(
    "f2-ge-en",
    "wire-en",
    "en",
    "Georgian president dismisses the government after port strike",
    "President Nino Beridze dismissed the government of Georgia on Tuesday after a month-long "
    "strike at the port of Batumi. Prime Minister Levan Kapanadze and his ministers will stay in "
    "office until a new government is appointed, the presidency said in Tbilisi.",
)
GEORGIA_NL = _story_article(
    "f2-ge-nl",
    "krant-nl",
    "nl",
    "Georgische president stuurt regering naar huis",
    "In Georgië heeft president Nino Beridze dinsdag de regering ontslagen na een staking van "
    "een maand in de haven van Batumi. Premier Levan Kapanadze blijft met zijn ministers aan tot "
    "er een nieuwe regering is benoemd, meldt het presidentiële paleis in Tbilisi.",
)


def _published(worker: WorkerProcess, article_id: str) -> bool:
    """Whether ``worker``'s log says it published an alert for ``article_id``."""
    try:
        lines = worker.log_path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return False
    for line in lines:
        if article_id not in line or not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("msg") == "alert published" and entry.get("article_id") == article_id:
            return True
    return False


async def _committed(bootstrap: str, group: str, tp: TopicPartition) -> int:
    """The offset ``group`` committed for ``tp`` (-1: none yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
    finally:
        await admin.close()
    found = offsets.get(tp)
    return found.offset if found is not None else -1


async def _until(condition: Callable[[], Any], within: float, what: str) -> None:
    """Poll ``condition`` (sync or async) every 0.3 s until it holds; fail naming ``what``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"not within {within:g} s: {what}")


async def test_survivor_takes_over_a_sigkilled_worker_with_its_story_state(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """Two workers share one group over 4 partitions. The one that decided a story (the first
    report, its offset committed) is SIGKILLed while a stream flows; the other takes over its
    partitions and finishes: every expected alert is on ``alerts``, and the second report of the
    story, processed by the survivor, is an ``update`` of the same story. The story got exactly
    one ``new`` decision in the whole run, so the survivor restored the story table from its
    changelog (the first report was committed, so no replay could have rebuilt it)."""
    book = None
    decisions = []
    pipeline = Pipeline.from_paths(REPO / "rules")
    for raw in (GEORGIA_EN, GEORGIA_NL):
        (finding,) = pipeline.findings(parse_article(raw), datetime.now(UTC))
        decision, book = story.decide(book, finding.candidate, datetime.now(UTC), STORY_WINDOW)
        decisions.append(decision.status)
    assert decisions == ["new", "update"], "precondition: the two reports are one story"
    routing_key = finding.routing_key.encode()

    before = tmp_path / "before.jsonl"
    bulk = sample_copies(before, copies=20)
    before.write_bytes(GEORGIA_EN + b"\n" + before.read_bytes())
    after = tmp_path / "after.jsonl"
    bulk += sample_copies(after, copies=10, first=20)
    after.write_bytes(GEORGIA_NL + b"\n" + after.read_bytes())
    en_id, nl_id = (json.loads(raw)["id"] for raw in (GEORGIA_EN, GEORGIA_NL))
    expected = _expected_alerts([GEORGIA_EN, GEORGIA_NL, *bulk])
    assert len(expected) >= 150

    topics = Topics(unique_name)
    env = {"MONITOR_TOPIC_PARTITIONS": "4"}
    group = topics.environ()["MONITOR_APP_ID"]
    one = WorkerProcess(kafka_bootstrap, topics, tmp_path / "one.log", extra_env=env)
    two = WorkerProcess(kafka_bootstrap, topics, tmp_path / "two.log", extra_env=env)
    with one, two:
        await one.wait_ready()
        await two.wait_ready()
        await one.wait_ready()  # again: after the rebalance that gave ``two`` its share
        await _produce(one, before)

        def opened(records: list[Record]) -> bool:
            return any(a["article_id"] == en_id for a in _alerts(records))

        await read_topic(kafka_bootstrap, topics.alerts, until=opened, within=90)
        await _until(lambda: _published(one, en_id) or _published(two, en_id), 30, "log line")
        victim, survivor = (one, two) if _published(one, en_id) else (two, one)
        # The first report's match must be committed: a replay must not be what saves the story.
        matches = await read_topic(
            kafka_bootstrap,
            f"{group}-matches",
            until=lambda records: any(r.key == routing_key for r in records),
            within=30,
        )
        first = next(r for r in matches if r.key == routing_key)
        tp = TopicPartition(f"{group}-matches", first.partition)
        await _until(
            lambda: _committed_after(kafka_bootstrap, group, tp, first.offset),
            60,
            f"{group} commits {tp} past {first.offset}",
        )
        victim.kill()  # SIGKILL while the stream flows
        await _produce(survivor, after)

        records = await read_topic(
            kafka_bootstrap, topics.alerts, until=_covers(expected), within=150
        )
        alerts = _alerts(records)
        missing = expected - {a["alert_id"] for a in alerts}
        assert not missing, (
            f"missing on the alerts topic: {missing}\nsurvivor:\n{survivor.tail()}\n"
            f"victim:\n{victim.tail()}"
        )
        assert survivor.process is not None and survivor.process.poll() is None
        assert _published(survivor, nl_id), "the survivor did not decide the second report"
        assert survivor.terminate(within=60) == 0, survivor.tail()

    (opening,) = {a["story_id"] for a in alerts if a["article_id"] == en_id}
    news = {a["alert_id"] for a in alerts if a["story_id"] == opening and a["status"] == "new"}
    assert len(news) == 1, f"the story was opened twice: its state was lost: {news}"
    second = [a for a in alerts if a["article_id"] == nl_id]
    assert {(a["status"], a["story_id"], a["story_sources"]) for a in second} == {
        ("update", opening, 2)
    }, second


async def _committed_after(bootstrap: str, group: str, tp: TopicPartition, offset: int) -> bool:
    return await _committed(bootstrap, group, tp) > offset


async def test_worker_rides_out_a_broker_restart_under_load(
    kafka_broker_factory: Callable[[], Broker], tmp_path: Path, unique_name: str
) -> None:
    """The worker's only broker is stopped for 12 s while alerts flow and started again on the
    same data dir and ports. The same worker process (never restarted) stays up through the
    outage, reconnects by itself, is ready again, and publishes every expected alert: those of
    the articles in flight when Kafka went away and those produced after it came back."""
    broker = kafka_broker_factory()
    broker.start()
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    expected = _expected_alerts(
        sample_copies(before, copies=30) + sample_copies(after, copies=10, first=30)
    )
    topics = Topics(unique_name)
    with WorkerProcess(broker.bootstrap, topics, tmp_path / "worker.log") as worker:
        await worker.wait_ready()
        assert worker.process is not None
        await _produce(worker, before)
        flowing = await read_topic(broker.bootstrap, topics.alerts, count=10, within=60)
        assert len(flowing) >= 10, worker.tail()

        broker.stop()
        down_until = time.monotonic() + OUTAGE
        while time.monotonic() < down_until:
            assert worker.process.poll() is None, f"worker died without Kafka:\n{worker.tail()}"
            await asyncio.sleep(0.5)
        broker.start()

        await worker.wait_ready(within=120)
        await _produce(worker, after)
        records = await read_topic(
            broker.bootstrap, topics.alerts, until=_covers(expected), within=150
        )
        missing = expected - {a["alert_id"] for a in _alerts(records)}
        assert not missing, f"missing after the broker restart: {missing}\n{worker.tail()}"
        assert worker.terminate(within=60) == 0, worker.tail()
