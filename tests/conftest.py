"""Shared fixtures. Integration tests talk to a real Kafka broker: never a mock, never a skip."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tools.localkafka import KAFKA_VERSION, Broker, LocalKafkaError, free_port


def _free_port_pair() -> tuple[int, int]:
    port = free_port()
    controller_port = free_port()
    while controller_port == port:
        controller_port = free_port()
    return port, controller_port


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a real Kafka broker for the whole session.

    ``KAFKA_BOOTSTRAP_SERVERS`` from the environment if set (CI, ``make demo``); otherwise a
    broker started on free ports in a temporary dir and stopped at the end of the session
    (``MONITOR_KAFKA_VERSION`` picks another Kafka version, to check compatibility).
    """
    external = _environ_bootstrap()
    if external:
        yield external
        return
    port, controller_port = _free_port_pair()
    broker = Broker(
        tmp_path_factory.mktemp("kafka"),
        port=port,
        controller_port=controller_port,
        version=os.environ.get("MONITOR_KAFKA_VERSION") or KAFKA_VERSION,
    )
    try:
        broker.start()
    except LocalKafkaError as exc:
        pytest.fail(f"the local Kafka broker did not start: {exc}", pytrace=False)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


def _environ_bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()


@pytest.fixture
def kafka_broker_factory(tmp_path: Path) -> Iterator[Callable[[], Broker]]:
    """Make private brokers (own ports, own dirs) for tests that stop or restart Kafka.

    They are not started; every one made is stopped when the test ends.
    """
    made: list[Broker] = []

    def make() -> Broker:
        port, controller_port = _free_port_pair()
        broker = Broker(tmp_path / f"kafka{len(made)}", port=port, controller_port=controller_port)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.stop()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A prefix for topic and group names that no other test (or earlier run) uses.

    Use as ``f"{unique_name}.articles"``, ``f"{unique_name}.group"``.
    """
    test = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:60].strip("-")
    return f"t.{test}.{uuid.uuid4().hex[:8]}"
