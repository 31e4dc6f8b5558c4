"""The client libraries of the venv (aiokafka, faust-streaming) against the Kafka 4.x broker.

Kafka 4.0 removed old protocol versions (KIP-896); these tests catch a client that still needs
them: consumer groups with committed offsets, and a faust worker with an agent and a table.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient

from monitor.topics import ensure_topics

pytestmark = pytest.mark.integration

APP = Path(__file__).with_name("faust_compat_app.py")
REPO = Path(__file__).resolve().parents[2]


async def test_aiokafka_group_commits_and_resumes(kafka_bootstrap: str, unique_name: str) -> None:
    topic, group = f"{unique_name}.in", f"{unique_name}.group"
    await ensure_topics(kafka_bootstrap, {topic: 3}, replication=1)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for i in range(6):
            await producer.send_and_wait(topic, b"m%d" % i, key=b"k%d" % i)
    finally:
        await producer.stop()

    def consumer() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    first = consumer()
    await first.start()
    try:
        seen: list[bytes] = []
        while len(seen) < 6:
            batches = await first.getmany(timeout_ms=5000)
            seen += [m.value for messages in batches.values() for m in messages]
        await first.commit()
        committed = sum([await first.committed(tp) or 0 for tp in first.assignment()])
    finally:
        await first.stop()
    assert sorted(seen) == [b"m%d" % i for i in range(6)]
    assert committed == 6

    second = consumer()  # same group: resumes after the committed offsets
    await second.start()
    try:
        assert await second.getmany(timeout_ms=1000) == {}
    finally:
        await second.stop()


async def test_faust_worker_processes_and_keeps_a_table(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    app_id, topic = f"{unique_name}.app", f"{unique_name}.raw"
    # Faust creates its own internal topics (leader, changelog); the source topic is ours.
    await ensure_topics(kafka_bootstrap, {topic: 2}, replication=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(topic, b"raw %d" % i, key=b"same key")
    finally:
        await producer.stop()

    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "COMPAT_APP_ID": app_id,
        "COMPAT_TOPIC": topic,
        "PYTHONPATH": str(REPO),
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        str(APP),
        "worker",
        "--without-web",
        "--loglevel",
        "warn",
        env=env,
        cwd=tmp_path,  # faust keeps its data dir there
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    try:
        async with asyncio.timeout(60):
            assert worker.stdout is not None
            while not any(re.search(r"PROCESSED 3\b", line) for line in output):
                line = await worker.stdout.readline()
                if not line:
                    pytest.fail("faust worker exited:\n" + "".join(output[-30:]))
                output.append(line.decode(errors="replace"))
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
        rest, _ = await worker.communicate()
        output.append(rest.decode(errors="replace"))
    assert worker.returncode == 0, "".join(output)[-3000:]

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(app_id)
        (changelog,) = await admin.describe_topics([f"{app_id}-counts-changelog"])
    finally:
        await admin.close()
    assert sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic) == 3
    assert changelog["error_code"] == 0
    assert len(changelog["partitions"]) == 2
    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await reader.start()
    try:
        ends = await reader.end_offsets(
            [TopicPartition(changelog["topic"], p["partition"]) for p in changelog["partitions"]]
        )
    finally:
        await reader.stop()
    assert sum(ends.values()) == 3
