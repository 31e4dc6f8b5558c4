"""Faults on real parts: a worker SIGKILLed mid-stream loses no alert for any desk."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.article import parse_article
from monitor.deliver.receiver import Receiver
from monitor.pipeline import Pipeline
from monitor.producer import produce_files
from monitor.settings import Settings
from tests.worker_support import REPO, Record, Topics, WorkerProcess, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]

SECRETS = (
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_ZGVzay1iLXNlY3JldC1vZi0zMi1ieXRlcy1sb25nISE=",
)


def _articles(path: Path, copies: int) -> list[bytes]:
    """Copies of the sample articles, each its own article from its own source."""
    sample = (REPO / "examples" / "articles.jsonl").read_text().splitlines()
    lines = [json.loads(line) for line in sample if line.strip()]
    out = []
    for i in range(copies):
        for doc in lines:
            out.append(
                json.dumps({**doc, "id": f"{doc['id']}-{i}", "source": f"wire-{i}"}).encode()
            )
    path.write_bytes(b"\n".join(out) + b"\n")
    return out


async def test_sigkill_mid_stream_then_restart_delivers_every_alert_to_every_desk(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """Kill -9 while alerts flow; after a restart every expected alert is on ``alerts`` and at
    both receivers at least once, and a re-delivered alert carries the same ``webhook-id``."""
    topics = Topics(unique_name)
    messages = _articles(tmp_path / "articles.jsonl", copies=6)
    pipeline = Pipeline.from_paths(REPO / "rules")
    now = datetime.now(UTC)
    expected = {
        alert.alert_id for raw in messages for alert in pipeline.process(parse_article(raw), now)
    }
    assert len(expected) >= 20

    async with Receiver([SECRETS[0]]) as desk_a, Receiver([SECRETS[1]]) as desk_b:
        subscriptions = tmp_path / "subscriptions.yml"
        subscriptions.write_text(
            "version: 1\nsubscribers:\n"
            + "".join(
                f"  - id: desk-{name}\n    url: {receiver.url}\n    allow_http: true\n"
                f"    secrets:\n      - env: DESK_{name.upper()}_SECRET\n"
                for name, receiver in (("a", desk_a), ("b", desk_b))
            )
        )
        env = {
            "MONITOR_SUBSCRIPTIONS": str(subscriptions),
            "MONITOR_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
            "MONITOR_WEBHOOK_RETRY_SCHEDULE": "0.1,0.2",
            "DESK_A_SECRET": SECRETS[0],
            "DESK_B_SECRET": SECRETS[1],
        }
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
