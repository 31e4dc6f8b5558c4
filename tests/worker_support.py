"""Integration-test helpers: the real ``monitor worker`` as a child process; topics read back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from tools.localkafka import free_port

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seeds" / "000_3f0d7a8a7abd1322.txt"


def metric_value(text: str, name: str, **labels: str) -> float:
    """The value of a series on a ``/metrics`` page: the sum of the samples named ``name`` whose
    labels include ``labels`` (one sample when every label is given; 0 when none is there)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def sample_copies(path: Path, copies: int, *, first: int = 0, tag: str = "") -> list[bytes]:
    """Copies ``first`` .. ``first + copies - 1`` of ``examples/articles.jsonl``, each its own
    article from its own source (``<id>-<tag><n>``, ``wire-<tag><n>``), also written to ``path``."""
    sample = (REPO / "examples" / "articles.jsonl").read_text().splitlines()
    docs = [json.loads(line) for line in sample if line.strip()]
    out = [
        json.dumps({**doc, "id": f"{doc['id']}-{tag}{i}", "source": f"wire-{tag}{i}"}).encode()
        for i in range(first, first + copies)
        for doc in docs
    ]
    path.write_bytes(b"\n".join(out) + b"\n")
    return out


def desks_environ(
    folder: Path, desks: Mapping[str, tuple[str, str]], *, retry_schedule: str
) -> dict[str, str]:
    """A worker's environment subscribing ``desk-<name>`` for each ``name -> (url, secret)``: a
    subscriptions file written in ``folder``, each secret in ``DESK_<NAME>_SECRET``."""
    subscriptions = folder / "subscriptions.yml"
    subscriptions.write_text(
        "version: 1\nsubscribers:\n"
        + "".join(
            f"  - id: desk-{name}\n    url: {url}\n    allow_http: true\n"
            f"    secrets:\n      - env: DESK_{name.upper()}_SECRET\n"
            for name, (url, _) in desks.items()
        )
    )
    return {
        "MONITOR_SUBSCRIPTIONS": str(subscriptions),
        "MONITOR_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        "MONITOR_WEBHOOK_RETRY_SCHEDULE": retry_schedule,
        **{f"DESK_{name.upper()}_SECRET": secret for name, (_, secret) in desks.items()},
    }


@dataclass
class Topics:
    """Topic names private to one test."""

    prefix: str

    @property
    def articles(self) -> str:
        return f"{self.prefix}.articles"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}.articles.dlq"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts"

    @property
    def webhook_dlq(self) -> str:
        return f"{self.prefix}.alerts.webhook-dlq"

    def environ(self) -> dict[str, str]:
        return {
            "MONITOR_APP_ID": self.prefix.replace(".", "-"),
            "MONITOR_TOPIC_ARTICLES": self.articles,
            "MONITOR_TOPIC_ARTICLES_DLQ": self.dlq,
            "MONITOR_TOPIC_ALERTS": self.alerts,
            "MONITOR_TOPIC_WEBHOOK_DLQ": self.webhook_dlq,
        }


@dataclass
class WorkerProcess:
    """``python -m monitor worker`` with a private web port; its output goes to ``log_path``."""

    bootstrap: str
    topics: Topics
    log_path: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "MONITOR_RULES": str(REPO / "rules"),
                "MONITOR_TOPIC_PARTITIONS": "2",
                "MONITOR_KAFKA_SESSION_TIMEOUT": "6",
                "MONITOR_WEB_PORT": str(self.port),
                "MONITOR_LOG_FORMAT": "json",
                "MONITOR_SHUTDOWN_TIMEOUT": "5",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.topics.environ())
        env.update(self.extra_env)
        return env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "worker"],
            env=self.environ(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()

    def wait_until_ready(self, within: float = 90.0) -> None:
        """Until ``/readyz`` answers 200; fails with the worker's log when it does not."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                code = self.process.returncode
                raise AssertionError(f"worker exited with {code}:\n{self.tail()}")
            if self.get("/readyz")[0] == 200:
                return
            time.sleep(0.5)
        raise AssertionError(f"worker not ready within {within} s:\n{self.tail()}")

    async def wait_ready(self, within: float = 90.0) -> None:
        """``wait_until_ready`` without blocking the event loop."""
        await asyncio.to_thread(self.wait_until_ready, within)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, ""

    def terminate(self, within: float = 30.0) -> int:
        """SIGTERM and wait; the exit code (SIGKILL after ``within``, then fail)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"worker ignored SIGTERM for {within} s:\n{self.tail()}") from None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> WorkerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]
    partition: int = -1
    offset: int = -1


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    count: int = 0,
    within: float = 60.0,
    settle: float = 0.0,
    until: Callable[[list[Record]], bool] | None = None,
) -> list[Record]:
    """Every record from the start of ``topic`` until ``count`` arrived and ``until`` holds
    (then ``settle`` more seconds), or ``within`` seconds passed."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    records: list[Record] = []
    try:
        await consumer.start()
        partitions = await _partitions(consumer, topic, within)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + within
        settle_until: float | None = None
        while time.monotonic() < deadline:
            if len(records) >= count and (until is None or until(records)):
                settle_until = settle_until or time.monotonic() + settle
                if time.monotonic() >= settle_until:
                    break
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                records.extend(
                    Record(
                        m.key,
                        m.value or b"",
                        {k: v for k, v in m.headers},
                        partition=m.partition,
                        offset=m.offset,
                    )
                    for m in messages
                )
    finally:
        await consumer.stop()
    return records


async def _partitions(consumer: AIOKafkaConsumer, topic: str, within: float) -> set[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            await consumer._client.force_metadata_update()
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await asyncio.sleep(0.3)
    raise AssertionError(f"topic {topic} does not exist after {within} s")
