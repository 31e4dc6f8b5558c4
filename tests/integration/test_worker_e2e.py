"""The whole road on real parts: Kafka, a ``monitor worker`` process, a webhook receiver, /metrics.

Good and malformed articles go in through the real ``articles`` topic. Out come alerts on
``alerts``, dead letters with their reasons on ``articles.dlq``, signed webhook requests at a real
HTTP receiver, a desk that refuses (400) gets no retries and every alert dead-lettered for it, the
counters on a real ``/metrics`` scrape say all of that; SIGTERM ends the worker with 0.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from monitor.deliver.receiver import Receiver
from monitor.producer import produce_files
from monitor.settings import Settings
from tests.deliver_support import spec_verify
from tests.worker_support import REPO, SEED, Topics, WorkerProcess, metric_value, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def test_articles_become_alerts_dead_letters_webhooks_and_metrics(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    assert SEED.exists(), f"the seed article is missing: {SEED}"
    topics = Topics(unique_name)
    async with (
        Receiver([SECRET]) as receiver,
        Receiver([SECRET], script=[400] * 100) as refusing,
    ):
        subscriptions = tmp_path / "subscriptions.yml"
        subscriptions.write_text(
            "version: 1\n"
            "subscribers:\n"
            + "".join(
                f"  - id: {name}\n    url: {desk.url}\n    allow_http: true\n"
                "    secrets:\n      - env: TEST_DESK_SECRET\n"
                for name, desk in (("test-desk", receiver), ("refusing-desk", refusing))
            )
        )
        worker = WorkerProcess(
            kafka_bootstrap,
            topics,
            tmp_path / "worker.log",
            extra_env={
                "MONITOR_SUBSCRIPTIONS": str(subscriptions),
                "MONITOR_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
                "MONITOR_WEBHOOK_RETRY_SCHEDULE": "0.1,0.2",
                "TEST_DESK_SECRET": SECRET,
            },
        )
        with worker:
            await worker.wait_ready()
            settings = dataclasses.replace(
                Settings.from_env(worker.environ()), kafka_bootstrap_servers=kafka_bootstrap
            )
            sent = await produce_files(settings, topics.articles, [SEED], raw=False)
            sent += await produce_files(
                settings, topics.articles, [REPO / "examples" / "articles.jsonl"], raw=False
            )
            sent += await produce_files(
                settings, topics.articles, [REPO / "examples" / "malformed.jsonl"], raw=True
            )

            alerts = await read_topic(kafka_bootstrap, topics.alerts, count=2, settle=5.0)
            seed_rules = {
                json.loads(r.value)["rule_id"]
                for r in alerts
                if json.loads(r.value)["article_id"].startswith(SEED.stem)
            }
            assert {"foreign_troop_deployment", "government_dismissal"} <= seed_rules, worker.tail()
            for record in alerts:
                alert = json.loads(record.value)
                assert record.key == alert["story_id"].encode()
                assert alert["schema_version"] == "1"
                assert alert["evidence"], alert
            fired_on = {json.loads(r.value)["article_id"] for r in alerts}
            assert "ex-nl-001" not in fired_on, "a sacked football coach is not a government"
            assert "ex-en-002" not in fired_on, "a joint exercise is not a deployment"

            dead = await read_topic(kafka_bootstrap, topics.dlq, count=2)
            reasons = sorted(r.headers["monitor-error-reason"].decode() for r in dead)
            assert reasons == ["invalid_schema", "not_json"]
            assert all(r.headers["monitor-error-detail"] for r in dead)

            requests = await receiver.wait_for(len(alerts), within=60)
            assert {r.payload()["data"]["alert_id"] for r in requests} == {
                json.loads(r.value)["alert_id"] for r in alerts
            }
            for request in requests:
                headers = {
                    "webhook-id": request.webhook_id,
                    "webhook-timestamp": request.timestamp,
                    "webhook-signature": request.signature,
                }
                assert spec_verify(SECRET, headers, request.body)

            refused = await read_topic(kafka_bootstrap, topics.webhook_dlq, count=len(alerts))
            assert len(refused) == len(alerts)
            assert {r.headers["subscriber"] for r in refused} == {b"refusing-desk"}

            status, body = worker.get("/metrics")
            assert status == 200
            assert metric_value(body, "monitor_articles_consumed_total") == sent
            assert (
                metric_value(body, "monitor_articles_dead_lettered_total", reason="not_json") == 1
            )
            assert (
                metric_value(body, "monitor_articles_dead_lettered_total", reason="invalid_schema")
                == 1
            )
            assert metric_value(body, "monitor_alerts_published_total") == len(alerts)
            assert metric_value(body, "monitor_webhook_attempts_total", outcome="delivered") >= len(
                alerts
            )
            assert worker.get("/healthz")[0] == 200

            assert worker.terminate(within=60) == 0, worker.tail()
