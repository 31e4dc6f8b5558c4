"""monitor.topics without a broker."""

from __future__ import annotations

import pytest

from monitor import topics as topics_module
from monitor.errors import ConfigError
from monitor.settings import Settings
from monitor.topics import ensure_topics, topic_plan
from monitor.worker import startup_topics
from tools.localkafka import free_port


def test_topic_plan_lists_every_topic_with_the_configured_partitions() -> None:
    settings = Settings.from_env({"MONITOR_TOPIC_PARTITIONS": "6", "MONITOR_TOPIC_ALERTS": "out"})

    assert topic_plan(settings) == {
        "articles": 6,
        "articles.dlq": 6,
        "out": 6,
        "alerts.webhook-dlq": 6,
    }


def test_the_worker_creates_the_story_stages_topics_before_faust_starts() -> None:
    """The repartition topic and the story table's changelog (compacted, as faust makes it)
    come with ours: left to faust, the first story's table write could fail on a changelog the
    consumer had not seen yet, and the story was gone after a restart."""
    settings = Settings.from_env({"MONITOR_TOPIC_PARTITIONS": "6", "MONITOR_APP_ID": "desk"})

    plan, configs = startup_topics(settings)

    assert plan == {**topic_plan(settings), "desk-matches": 6, "desk-stories-changelog": 6}
    assert configs["desk-stories-changelog"] == {"cleanup.policy": "compact"}
    assert "desk-matches" not in configs


async def test_unreachable_kafka_names_the_bootstrap_setting() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"

    with pytest.raises(ConfigError, match=rf"KAFKA_BOOTSTRAP_SERVERS: .*{bootstrap}"):
        await ensure_topics(bootstrap, {"articles": 1}, replication=1, request_timeout=5)


class AdminClientCreatedError(Exception):
    pass


def _no_admin_client(**config: object) -> None:
    raise AdminClientCreatedError(config["bootstrap_servers"])


async def test_nothing_to_ensure_needs_no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no topics to ensure, no admin client is even created (so no broker is needed);
    with one, it is: the stand-in that would show a connection attempt is in place."""
    monkeypatch.setattr(topics_module, "AIOKafkaAdminClient", _no_admin_client)

    await ensure_topics("127.0.0.1:1", {}, replication=1)

    with pytest.raises(AdminClientCreatedError, match=r"127\.0\.0\.1:1"):
        await ensure_topics("127.0.0.1:1", {"articles": 1}, replication=1)
