"""A real Prometheus scrapes a real worker: the shipped scrape config, read back through its API.

The worker (``python -m monitor worker``) runs against the test broker on a free port;
Prometheus (the ``prometheus`` binary, Debian's package) runs on 127.0.0.1 with the shipped
deploy/prometheus/prometheus.yml pointed at that port. Missing binaries fail the test, never skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaProducer

from monitor.article import Article, encode_article
from tools.localkafka import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
ARTICLES = 3


def _get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body


def _wait_for(what: str, check: object, within: float, proc: subprocess.Popen[bytes]) -> object:
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"{what}: process exited with {proc.returncode}:\n{out[-4000:]}")
        try:
            last = check()  # type: ignore[operator]
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {within:.0f} s (last: {last!r})")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


@pytest.fixture
def worker(kafka_bootstrap: str, unique_name: str, tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A worker on a free web port; yields (port, articles topic)."""
    port = free_port()
    topic = f"{unique_name}.articles"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MONITOR_APP_ID": f"{unique_name}.app",
        "MONITOR_TOPIC_ARTICLES": topic,
        "MONITOR_TOPIC_ARTICLES_DLQ": f"{unique_name}.articles.dlq",
        "MONITOR_TOPIC_ALERTS": f"{unique_name}.alerts",
        "MONITOR_TOPIC_WEBHOOK_DLQ": f"{unique_name}.webhook-dlq",
        "MONITOR_TOPIC_PARTITIONS": "2",
        "MONITOR_RULES": str(REPO / "rules"),
        "MONITOR_WEB_HOST": "127.0.0.1",
        "MONITOR_WEB_PORT": str(port),
        "MONITOR_LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "worker"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(
            "worker /readyz",
            lambda: json.loads(_get(f"http://127.0.0.1:{port}/readyz"))["ready"],
            90,
            proc,
        )
        yield port, topic
    finally:
        _stop(proc)


@pytest.fixture
def prometheus(worker: tuple[int, str], tmp_path: Path) -> Iterator[str]:
    """Prometheus scraping the worker with the shipped config; yields its base URL."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("the prometheus binary is not installed: `apt-get install prometheus`")
    port, _ = worker
    config = yaml.safe_load(SHIPPED_CONFIG.read_text())
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config.pop("rule_files", None)
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "monitor"]
    job.pop("dns_sd_configs")  # compose's DNS; here one worker on a known port
    job["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]
    config["scrape_configs"] = [job]
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    web_port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{web_port}",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        _wait_for("prometheus ready", lambda: _get(f"{base}/-/ready"), 30, proc)
        yield base
    finally:
        _stop(proc)


def _query(base: str, expr: str) -> float | None:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    answer = json.loads(_get(url))
    results = answer["data"]["result"]
    return float(results[0]["value"][1]) if results else None


async def _produce(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(ARTICLES):
            article = Article(
                id=f"scrape-{i}",
                url=f"https://example.org/{i}",
                title="Weather",
                text="Sunny with a light breeze.",
                source="test",
                published_at=datetime.now(UTC),
                language="en",
            )
            await producer.send_and_wait(topic, encode_article(article), key=article.id.encode())
    finally:
        await producer.stop()


async def test_prometheus_reads_articles_consumed(
    kafka_bootstrap: str, worker: tuple[int, str], prometheus: str
) -> None:
    _, topic = worker
    await _produce(kafka_bootstrap, topic)

    deadline = time.monotonic() + 60
    value: float | None = None
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(_query, prometheus, "sum(monitor_articles_consumed_total)")
        if value is not None and value >= ARTICLES:
            break
        await asyncio.sleep(1)
    assert value == ARTICLES, f"Prometheus saw monitor_articles_consumed_total = {value}"
    up = await asyncio.to_thread(_query, prometheus, 'up{job="monitor"}')
    assert up == 1
    rules = await asyncio.to_thread(_query, prometheus, "monitor_rules_loaded")
    assert rules is not None and rules >= 1
