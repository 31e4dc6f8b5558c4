"""tools/localkafka.py without a broker: the failures that must be clear one-liners."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tools.localkafka import (
    Broker,
    LocalKafkaError,
    _mvn_error,
    check_port_free,
    fetch,
    free_port,
    random_cluster_id,
)


def test_start_refuses_a_port_already_taken(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        broker = Broker(tmp_path, port=port, controller_port=free_port())

        with pytest.raises(
            LocalKafkaError, match=rf"Kafka port 127\.0\.0\.1:{port} is already in use"
        ):
            broker.start()

    assert broker.pid() is None
    broker.stop()  # nothing to stop: still fine


def test_a_free_port_passes_the_check() -> None:
    check_port_free(free_port())


def test_fetch_without_maven_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(LocalKafkaError, match=r"Maven \(mvn\) not found"):
        fetch("4.3.0", tmp_path / "cache")


def test_fetch_reuses_a_complete_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".complete").write_text("kafka 4.3.0\n")
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn: it must not be needed

    assert fetch("4.3.0", tmp_path) == tmp_path / "libs"


@pytest.mark.parametrize(
    ("output", "line"),
    [
        pytest.param(
            "[INFO] x\n[ERROR] Failed to execute goal: Could not resolve\n[ERROR] more\n",
            "Failed to execute goal: Could not resolve",
            id="first-error-line",
        ),
        pytest.param(
            "\x1b[0m\x1b[0m[ERROR] Could not resolve kafka_2.13:jar:4.9.9 -> [Help 1]\n[ERROR] \n",
            "Could not resolve kafka_2.13:jar:4.9.9",
            id="ansi-and-help-suffix",
        ),
        pytest.param("something broke\n", "something broke", id="no-error-marker"),
        pytest.param("", "no output", id="silent"),
    ],
)
def test_mvn_error_picks_the_telling_line(output: str, line: str) -> None:
    assert _mvn_error(output) == line


def test_cluster_id_has_kafkas_uuid_format() -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", random_cluster_id())


def test_port_and_controller_port_must_differ(tmp_path: Path) -> None:
    with pytest.raises(LocalKafkaError, match="must differ"):
        Broker(tmp_path, port=9092, controller_port=9092)
