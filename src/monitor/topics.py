"""The Kafka topics monitor reads and writes, created explicitly at startup.

The broker does not auto-create topics (``auto.create.topics.enable=false`` in production and in
``tools/localkafka.py``): a typo must not silently create a topic, and partition counts are part
of the deployment. ``ensure_topics`` creates what is missing and refuses to start on a topic whose
partition count differs from the configured one (a worker must fail once with a clear message
instead of crash-looping on keys hashed to the wrong partitions).

Faust creates its own internal topics (leader topic, table changelogs) with CreateTopics requests;
only our source and sink topics are listed here. The worker adds the two internal topics the
story stage needs from its first event (the repartition topic and the story table's changelog:
``monitor.worker``), so they exist before faust's consumer joins its group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

# aiokafka ships no type information (no py.typed).
from aiokafka import (
    AIOKafkaConsumer,
    TopicPartition,
)
from aiokafka.admin import (
    AIOKafkaAdminClient,
    NewTopic,
)
from aiokafka.errors import KafkaError, for_code

from monitor.errors import ConfigError
from monitor.settings import Settings

_NO_ERROR = 0
_UNKNOWN_TOPIC = 3  # UNKNOWN_TOPIC_OR_PARTITION: the topic does not exist
_TOPIC_EXISTS = 36  # TOPIC_ALREADY_EXISTS: another worker created it first
_INVALID_PARTITIONS = 37
_INVALID_REPLICATION = 38


# Kafka's own default (broker ``message.max.bytes``) is 1 MB: less than one article may be.
RECORD_LIMIT_FLOOR = 16 * 1024 * 1024


def record_limit(settings: Settings) -> int:
    """The largest record (bytes) the articles topic and its dead-letter topic accept.

    Larger than ``MONITOR_MAX_ARTICLE_BYTES`` on purpose: an article too large to process still
    reaches the worker and is dead-lettered with the reason ``too_large``; only a record over this
    limit is refused, at the producer (``monitor produce`` fails naming the size). The worker's
    consumer fetches records up to this size and ``monitor produce`` sends them.
    """
    return max(RECORD_LIMIT_FLOOR, 2 * settings.max_article_bytes)


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Topic-level configs set when ``ensure_topics`` creates a topic (existing ones keep theirs).

    The size limit is a topic config rather than a broker one, so monitor's topics take large
    articles on any broker without raising the limit for every other topic there.
    """
    limit = {"max.message.bytes": str(record_limit(settings))}
    return {settings.topic_articles: dict(limit), settings.topic_articles_dlq: dict(limit)}


def topic_plan(settings: Settings) -> dict[str, int]:
    """Every topic monitor owns, with its partition count."""
    names = (
        settings.topic_articles,
        settings.topic_articles_dlq,
        settings.topic_alerts,
        settings.topic_webhook_dlq,
    )
    return dict.fromkeys(names, settings.topic_partitions)


async def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    replication: int,
    *,
    configs: Mapping[str, Mapping[str, str]] | None = None,
    request_timeout: float = 30.0,
) -> None:
    """Create the missing ``topics`` (name -> partitions); check the partitions of existing ones.

    ``configs`` (name -> topic configs, e.g. ``topic_configs(settings)``) apply to topics this call
    creates.

    Returns once every topic has a leader for each partition, so producers can write at once.
    Raises ``ConfigError`` naming the topic if an existing topic has a different partition count,
    and ``ConfigError`` naming ``KAFKA_BOOTSTRAP_SERVERS`` if Kafka cannot be reached.
    """
    if not topics:
        return
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="monitor-topics",
        request_timeout_ms=int(request_timeout * 1000),
    )
    try:
        async with asyncio.timeout(request_timeout):
            await admin.start()
            created = await _ensure(admin, topics, replication, configs or {})
            if created:
                await _wait_until_served(bootstrap, created)
    except KafkaError as exc:
        raise ConfigError(
            "KAFKA_BOOTSTRAP_SERVERS", f"Kafka at {bootstrap}: {type(exc).__name__}: {exc}"
        ) from exc
    except TimeoutError as exc:
        raise ConfigError(
            "KAFKA_BOOTSTRAP_SERVERS",
            f"Kafka at {bootstrap} did not answer topic requests within {request_timeout:g} s",
        ) from exc
    finally:
        await admin.close()


async def _ensure(
    admin: Any,
    topics: Mapping[str, int],
    replication: int,
    configs: Mapping[str, Mapping[str, str]],
) -> dict[str, int]:
    """Create what is missing; return the topics this call created."""
    existing = await _partition_counts(admin, list(topics))
    _check_counts(existing, topics)
    missing = [name for name in topics if name not in existing]
    if missing:
        new = [
            NewTopic(name, topics[name], replication, topic_configs=dict(configs.get(name, {})))
            for name in missing
        ]
        response = await admin.create_topics(new)
        for result in response.to_object()["topic_errors"]:
            _check_created(result, topics, replication)
    # CreateTopics returns before every partition has a leader in the broker's metadata.
    while True:
        counts = await _partition_counts(admin, list(topics), need_leaders=True)
        _check_counts(counts, topics)
        if len(counts) == len(topics):
            return {name: topics[name] for name in missing}
        await asyncio.sleep(0.1)


async def _wait_until_served(bootstrap: str, created: Mapping[str, int]) -> None:
    """Wait until the leaders of new partitions answer requests.

    A broker publishes a new leader in its metadata a moment before its replica manager takes the
    partition, so a producer writing at once gets NOT_LEADER_OR_FOLLOWER and retries with a
    warning. ListOffsets goes to the leader and the consumer retries it until the leader serves.
    """
    partitions = [TopicPartition(name, p) for name, count in created.items() for p in range(count)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="monitor-topics")
    await consumer.start()
    try:
        await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def _partition_counts(
    admin: Any, names: list[str], *, need_leaders: bool = False
) -> dict[str, int]:
    """Partition counts of the topics that exist (and, if asked, have all their leaders)."""
    counts: dict[str, int] = {}
    for meta in await admin.describe_topics(names):
        code = meta["error_code"]
        if code == _UNKNOWN_TOPIC:
            continue
        if code != _NO_ERROR:
            error = for_code(code)
            if getattr(error, "retriable", False):
                continue  # e.g. LEADER_NOT_AVAILABLE right after creation: ask again
            raise ConfigError("topics", f"describing topic {meta['topic']!r}: {error.__name__}")
        partitions = meta["partitions"]
        if need_leaders and any(p["leader"] < 0 or p["error_code"] for p in partitions):
            continue
        counts[meta["topic"]] = len(partitions)
    return counts


def _check_counts(existing: Mapping[str, int], wanted: Mapping[str, int]) -> None:
    for name, count in existing.items():
        if count != wanted[name]:
            raise ConfigError(
                "MONITOR_TOPIC_PARTITIONS",
                f"topic {name!r} exists with {count} partitions, configured {wanted[name]}; "
                "align the setting or migrate the topic",
            )


def _check_created(result: Mapping[str, Any], wanted: Mapping[str, int], replication: int) -> None:
    name, code = result["topic"], result["error_code"]
    if code in (_NO_ERROR, _TOPIC_EXISTS):  # created, or a concurrent worker won the race
        return
    message = result.get("error_message") or for_code(code).__name__
    if code == _INVALID_REPLICATION:
        raise ConfigError(
            "MONITOR_TOPIC_REPLICATION",
            f"cannot create topic {name!r} with {replication}: {message}",
        )
    if code == _INVALID_PARTITIONS:
        raise ConfigError(
            "MONITOR_TOPIC_PARTITIONS",
            f"cannot create topic {name!r} with {wanted[name]} partitions: {message}",
        )
    raise ConfigError("topics", f"cannot create topic {name!r}: {message}")
