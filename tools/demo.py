"""``make demo``: the whole system on this machine, then everything it started is stopped.

A local Kafka broker (KRaft, 127.0.0.1), the webhook receiver of a demo desk, and ``monitor
worker``; the sample articles in ``examples/`` and the seed article from ``../shared/seeds/`` (when
present) are produced, and each alert is printed as the desk's receiver gets it.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tools.localkafka import Broker, LocalKafkaError, free_port

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / ".cache" / "demo"
SEEDS = REPO.parent / "shared" / "seeds"


def _say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def _metric(url: str, name: str, label: str = "") -> float:
    """The sum of a metric's samples whose labels contain ``label``; -1 when unreachable."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=2) as response:
            text = response.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return -1.0
    pattern = re.compile(rf"^{re.escape(name)}({{[^}}]*}})? ([0-9.e+-]+)$", re.MULTILINE)
    return sum(float(value) for labels, value in pattern.findall(text) if label in labels)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(process: subprocess.Popen[bytes] | None, name: str) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=30)
        _say(f"{name} stopped (exit {code})")
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        _say(f"{name} killed after 30 s")


def main() -> int:
    # A fresh broker each run: the demo shows these articles, not what an earlier run left.
    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    receiver_port, web_port = free_port(), free_port()
    subscriptions = STATE / "subscriptions.yml"
    subscriptions.write_text(
        "version: 1\nsubscribers:\n  - id: demo-desk\n"
        f"    url: http://127.0.0.1:{receiver_port}/hooks\n"
        "    allow_http: true\n    secrets:\n      - env: DEMO_DESK_SECRET\n"
    )
    broker = Broker(STATE / "kafka", port=free_port(), controller_port=free_port())
    receiver: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    run = f"demo-{int(time.time())}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "MONITOR_APP_ID": run,
            "MONITOR_RULES": str(REPO / "rules"),
            "MONITOR_SUBSCRIPTIONS": str(subscriptions),
            "MONITOR_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
            "MONITOR_WEBHOOK_RETRY_SCHEDULE": "0.5,2,5",
            "MONITOR_WEB_PORT": str(web_port),
            "MONITOR_KAFKA_SESSION_TIMEOUT": "10",
            "MONITOR_LOG_FORMAT": "json",
            "DEMO_DESK_SECRET": secret,
            "PYTHONUNBUFFERED": "1",
        }
    )
    monitor = [sys.executable, "-m", "monitor"]
    worker_log = STATE / "worker.log"
    try:
        _say("starting Kafka (the first run fetches its jars from Maven Central)...")
        broker.start()
        _say(f"Kafka is up on {broker.bootstrap}")
        receiver = subprocess.Popen(
            [
                *monitor,
                "receiver",
                "--port",
                str(receiver_port),
                "--secret-env",
                "DEMO_DESK_SECRET",
            ],
            env=env,
        )
        with worker_log.open("wb") as log:
            worker = subprocess.Popen([*monitor, "worker"], env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{web_port}"
        deadline = time.monotonic() + 120
        while not _ready(url):
            if worker.poll() is not None or time.monotonic() > deadline:
                _say(f"the worker did not become ready; its log is {worker_log}")
                return 1
            time.sleep(0.5)
        _say(f"worker ready: {url}/metrics, {url}/readyz (log: {worker_log})")
        files = [REPO / "examples" / "articles.jsonl", *sorted(SEEDS.glob("*.txt"))]
        produced = subprocess.run([*monitor, "produce", *map(str, files)], env=env, check=False)
        malformed = [REPO / "examples" / "malformed.jsonl"]
        subprocess.run([*monitor, "produce", "--raw", *map(str, malformed)], env=env, check=False)
        if produced.returncode != 0:
            return produced.returncode
        _say("articles produced; waiting for the alerts to reach the desk's webhook...")
        sent = sum(
            len(f.read_text().splitlines()) for f in [*files, *malformed] if f.suffix == ".jsonl"
        )
        sent += len(files) - 1  # each seed text file is one article
        deadline = time.monotonic() + 90
        consumed = published = delivered = 0.0
        while time.monotonic() < deadline:
            consumed = _metric(url, "monitor_articles_consumed_total")
            published = _metric(url, "monitor_alerts_published_total")
            delivered = _metric(url, "monitor_webhook_attempts_total", 'outcome="delivered"')
            if consumed >= sent and published > 0 and delivered >= published:
                break
            time.sleep(1)
        time.sleep(1)
        _say(
            f"consumed {consumed:.0f} of {sent} messages, published {published:.0f} alerts, "
            f"delivered {delivered:.0f} webhooks"
        )
        return 0
    except LocalKafkaError as exc:
        _say(f"Kafka could not start: {exc}")
        return 1
    finally:
        _stop(worker, "worker")
        _stop(receiver, "receiver")
        broker.stop()
        _say("Kafka stopped")


if __name__ == "__main__":
    raise SystemExit(main())
