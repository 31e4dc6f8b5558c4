"""The local broker of tools/localkafka.py and monitor.topics against it (real Kafka, no mocks)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from monitor.errors import ConfigError
from monitor.topics import ensure_topics
from tools.localkafka import Broker, api_versions_ok

pytestmark = pytest.mark.integration


async def _partitions(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}


def test_broker_answers_kafka_requests(kafka_bootstrap: str) -> None:
    host, port = kafka_bootstrap.rsplit(":", 1)
    assert host == "127.0.0.1"
    assert api_versions_ok(int(port))


async def test_ensure_topics_creates_missing_topics(kafka_bootstrap: str, unique_name: str) -> None:
    wanted = {f"{unique_name}.a": 3, f"{unique_name}.b": 1}

    await ensure_topics(kafka_bootstrap, wanted, replication=1)
    await ensure_topics(kafka_bootstrap, wanted, replication=1)  # idempotent

    assert await _partitions(kafka_bootstrap, list(wanted)) == wanted


async def test_ensure_topics_refuses_a_partition_mismatch(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = f"{unique_name}.articles"
    await ensure_topics(kafka_bootstrap, {topic: 2}, replication=1)

    with pytest.raises(ConfigError, match=rf"{topic}.*2 partitions, configured 4") as caught:
        await ensure_topics(kafka_bootstrap, {topic: 4}, replication=1)

    assert caught.value.setting == "MONITOR_TOPIC_PARTITIONS"
    assert await _partitions(kafka_bootstrap, [topic]) == {topic: 2}


async def test_ensure_topics_names_an_impossible_replication(
    kafka_bootstrap: str, unique_name: str
) -> None:
    with pytest.raises(ConfigError, match=r"MONITOR_TOPIC_REPLICATION: cannot create topic"):
        await ensure_topics(kafka_bootstrap, {f"{unique_name}.x": 1}, replication=3)


async def test_restart_on_the_same_data_dir_keeps_messages(
    kafka_broker_factory: Callable[[], Broker], unique_name: str
) -> None:
    broker = kafka_broker_factory()
    topic = f"{unique_name}.kept"
    broker.start()
    await ensure_topics(broker.bootstrap, {topic: 1}, replication=1)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"survives a restart")
    finally:
        await producer.stop()
    broker.stop()
    broker.stop()  # safe twice
    assert broker.pid() is None

    broker.start()  # must not re-format the data dir

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert message.value == b"survives a restart"
