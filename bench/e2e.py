"""End-to-end benchmark: articles on Kafka -> ``monitor worker`` -> ``alerts`` -> a webhook.

    make bench-e2e                      # or: .venv/bin/python -m bench.e2e [--quick] [--profile]

Run on purpose; it prints, it does not assert. It starts its own Kafka broker on free ports in a
temp dir (or uses ``KAFKA_BOOTSTRAP_SERVERS``), writes a rules folder (the real rules plus
synthetic ones up to ``--rules``), serves a signed-webhook receiver in this process, and for one
worker and then two workers in one consumer group (fresh topics and app id each time):

1. engine-only: the same articles through ``Pipeline`` in this process, single-threaded: the
   baseline, measured just before the workers start (the machine is shared, so each scenario
   gets its own baseline and the ratio end-to-end / engine-only is what to compare);
2. throughput: ``--articles`` produced as fast as possible; articles/s processed by the
   worker(s) between 10 % and 90 % of the backlog (the consumer group's committed offsets, read
   from the broker, so the measurement costs the workers nothing), and the peak RSS
   (``VmHWM``) of each worker; with ``--profile`` py-spy samples the (first) worker meanwhile;
3. latency: articles produced at a steady ``--rate`` for ``--latency-seconds``; for every alert,
   article produced -> alert appended to ``alerts`` (the topic uses LogAppendTime, the broker's
   clock) and -> webhook received by the receiver; p50/p95/p99.

Every process it starts (broker, workers, py-spy) is stopped by PID at the end, also on Ctrl-C
or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.newsfeed import Feed, load_corpus
from bench.rulepack import topic_words, write_rules
from bench.spy import Profile, Spy
from monitor.article import encode_article, parse_article
from monitor.deliver.receiver import Receiver
from monitor.pipeline import Pipeline
from tests.worker_support import Topics, WorkerProcess
from tools.localkafka import Broker, free_port

SECRET_ENV = "BENCH_DESK_SECRET"
TARGET_RATE = 1000.0  # articles/s through one worker
TARGET_P99_MS = 250.0  # produce -> webhook at --rate
TARGET_RSS_MB = 500.0
WARMUP_ARTICLES = 120


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Result:
    """What one scenario measured."""

    workers: int
    partitions: int
    engine_rate: float = 0.0
    engine_cpu_ms: float = 0.0
    worker_cpu_ms: float = 0.0
    rate: float = 0.0
    overall_rate: float = 0.0
    to_alerts: list[float] = field(default_factory=list)
    to_webhook: list[float] = field(default_factory=list)
    expected_alerts: int = 0
    throughput_delivered: int = 0
    throughput_expected: int = 0
    rss_mb: list[float] = field(default_factory=list)
    profile: Profile | None = None

    @property
    def label(self) -> str:
        return f"{self.workers} worker{'s' if self.workers > 1 else ''}, {self.partitions} part."


@dataclass
class Workload:
    """The articles (as wire bytes) and how many alerts each should yield."""

    warmup: list[tuple[str, bytes]]
    backlog: list[tuple[str, bytes]]
    paced: list[tuple[str, bytes]]
    findings: dict[str, int]

    def expected(self, ids: Sequence[tuple[str, bytes]]) -> int:
        return sum(self.findings.get(article_id, 0) for article_id, _ in ids)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def engine_only(
    pipeline: Pipeline, articles: Sequence[tuple[str, bytes]]
) -> tuple[float, float, dict[str, int]]:
    """Articles/s and CPU ms per article of parse + ``Pipeline.findings`` in this process;
    findings per article id."""
    now = datetime.now(UTC)
    counts: dict[str, int] = {}
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    for article_id, raw in articles:
        found = pipeline.findings(parse_article(raw), now)
        if found:
            counts[article_id] = len(found)
    cpu_ms = 1000 * (time.process_time() - cpu) / len(articles)
    return len(articles) / (time.perf_counter() - start), cpu_ms, counts


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (all its threads); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # after the command: state is field 3 of proc(5), utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The peak resident set (VmHWM) of a process, in MB; 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def crossing(samples: Sequence[tuple[float, float]], level: float) -> float | None:
    """The time the sampled counter reached ``level``, interpolated between samples."""
    for (t0, c0), (t1, c1) in itertools.pairwise(samples):
        if c0 < level <= c1:
            return t0 + (t1 - t0) * (level - c0) / (c1 - c0)
    return None


class AlertLog:
    """Reads the alerts topic from the start: per article id, the broker's append times."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.appended: dict[str, list[float]] = {}
        self.count = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self, partitions: int) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
        )
        await consumer.start()
        tps = [TopicPartition(self.topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._run(consumer))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        article_id = json.loads(record.value)["article_id"]
                        self.appended.setdefault(article_id, []).append(record.timestamp / 1000)
                        self.count += 1
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def webhooks_by_article(receiver: Receiver, since: int = 0) -> dict[str, list[float]]:
    """Per article id, the monotonic times its alerts' webhooks were received (verified, 2xx),
    among the receiver's requests from index ``since`` on (the scenarios share article ids)."""
    received: dict[str, list[float]] = {}
    for request in receiver.requests[since:]:
        if not (request.verified and request.status == 200):
            continue
        article_id = request.payload()["data"]["article_id"]
        received.setdefault(article_id, []).append(request.received_at)
    return received


class Bench:
    """The shared parts of all scenarios: broker address, rules, receiver, workload."""

    def __init__(self, args: argparse.Namespace, bootstrap: str, workdir: Path) -> None:
        self.args = args
        self.bootstrap = bootstrap
        self.workdir = workdir
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.run_id = f"bench-{int(time.time())}"
        self.rules_dir = workdir / "rules"
        self.receiver = Receiver([self.secret])
        self.workers: list[WorkerProcess] = []
        self.spy: Spy | None = None
        self.since = 0  # the receiver's requests before the current scenario are not its own

    async def prepare(self) -> tuple[Pipeline, Workload]:
        args = self.args
        topic = topic_words(args.seed)
        synthetic = write_rules(self.rules_dir, args.rules, topic, args.seed)
        pipeline = Pipeline.from_paths(self.rules_dir)
        say(f"rules: {len(pipeline.ruleset.rules)} ({synthetic} synthetic) in {self.rules_dir}")
        feed = Feed(
            load_corpus(pipeline.ruleset), topic, seed=args.seed, declared_share=args.declared
        )
        paced_count = int(args.rate * args.latency_seconds)
        backlog = [(a.id, encode_article(a)) for a in feed.articles("tp", args.articles)]
        paced = [(a.id, encode_article(a)) for a in feed.articles("lat", paced_count)]
        # Half of the warm-up articles match: every language's dictionaries and models get
        # loaded (lazily, on first use) before anything is measured, here and in the workers.
        warm = Feed(feed.corpus, topic, seed=args.seed + 1, match_share=0.5)
        warmup = [(a.id, encode_article(a)) for a in warm.articles("warm", WARMUP_ARTICLES)]
        _, _, findings = engine_only(pipeline, warmup + paced)
        kb = statistics.mean(len(raw) for _, raw in backlog) / 1024
        say(f"articles: {len(backlog)} backlog + {len(paced)} paced, mean {kb:.1f} KB")
        await self.receiver.start()
        return pipeline, Workload(warmup, backlog, paced, findings)

    async def scenario(
        self, pipeline: Pipeline, workload: Workload, workers: int, profile: bool
    ) -> Result:
        args = self.args
        result = Result(workers=workers, partitions=args.partitions)
        say(f"--- {result.label}: engine-only baseline on the backlog articles")
        result.engine_rate, result.engine_cpu_ms, findings = engine_only(pipeline, workload.backlog)
        workload.findings.update(findings)
        matching = sum(1 for a, _ in workload.backlog if a in findings)
        share = 100 * matching / len(workload.backlog)
        say(
            f"engine-only: {result.engine_rate:.0f} articles/s, "
            f"{result.engine_cpu_ms:.2f} CPU ms/article; {matching} of "
            f"{len(workload.backlog)} articles match ({share:.1f} %), "
            f"{sum(findings.values())} alerts expected"
        )
        self.since = len(self.receiver.requests)
        topics = Topics(f"{self.run_id}.w{workers}")
        await self._create_alerts_topic(topics.alerts, args.partitions)
        alerts = AlertLog(self.bootstrap, topics.alerts)
        await alerts.start(args.partitions)
        try:
            started = self._start_workers(topics, workers)
            await asyncio.gather(*(w.wait_ready(120.0) for w in started))
            say(f"{workers} worker(s) ready: " + ", ".join(w.url for w in started))
            async with AIOKafkaProducer(
                bootstrap_servers=self.bootstrap, linger_ms=0, max_batch_size=1 << 20
            ) as producer:
                await self._warm_up(producer, started[0].topics, workload)
                await self._throughput(producer, started, workload, result, profile)
                await self._latency(producer, topics.articles, workload, result, alerts)
            result.rss_mb = [peak_rss_mb(w.process.pid) for w in started if w.process]
        finally:
            await alerts.stop()
            self.stop_workers()
        return result

    async def _create_alerts_topic(self, name: str, partitions: int) -> None:
        # The broker's append time stamps each alert: "on the alerts topic" by the broker's clock.
        config = {"message.timestamp.type": "LogAppendTime"}
        async with _admin(self.bootstrap) as admin:
            await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=config)])

    def _start_workers(self, topics: Topics, count: int) -> list[WorkerProcess]:
        subscriptions = self.workdir / f"{topics.prefix}.subscriptions.yaml"
        subscriptions.write_text(
            "version: 1\nsubscribers:\n  - id: bench-desk\n"
            f"    url: {self.receiver.url}\n    allow_http: true\n"
            f"    secrets:\n      - env: {SECRET_ENV}\n"
        )
        env = {
            "MONITOR_RULES": str(self.rules_dir),
            "MONITOR_TOPIC_PARTITIONS": str(self.args.partitions),
            "MONITOR_SUBSCRIPTIONS": str(subscriptions),
            "MONITOR_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
            "MONITOR_KAFKA_SESSION_TIMEOUT": "10",
            SECRET_ENV: self.secret,
        }
        started = []
        for n in range(count):
            log_path = self.workdir / f"{topics.prefix}.worker{n}.log"
            worker = WorkerProcess(self.bootstrap, topics, log_path, extra_env=env)
            self.workers.append(worker)
            worker.start()
            started.append(worker)
        return started

    def stop_workers(self) -> None:
        """SIGTERM each worker this bench started (SIGKILL after 30 s); py-spy first."""
        if self.spy is not None:
            self.spy.stop(time.monotonic())
            self.spy = None
        while self.workers:
            worker = self.workers.pop()
            if worker.process is None or worker.process.poll() is not None:
                continue
            try:
                worker.terminate(within=30.0)
            except AssertionError as exc:
                say(f"worker {worker.process.pid} was killed: {str(exc).splitlines()[0]}")

    async def _warm_up(
        self, producer: AIOKafkaProducer, topics: Topics, workload: Workload
    ) -> None:
        """Produce the warm-up articles; wait until they are processed and their alerts
        delivered."""
        for article_id, raw in workload.warmup:
            await producer.send(topics.articles, raw, key=article_id.encode())
        await producer.flush()
        group = topics.environ()["MONITOR_APP_ID"]
        deadline = time.monotonic() + 120.0
        async with _admin(self.bootstrap) as admin:
            while time.monotonic() < deadline:
                if await _committed(admin, group, topics.articles) >= len(workload.warmup):
                    break
                await asyncio.sleep(0.5)
        ids = {article_id for article_id, _ in workload.warmup}
        expected = workload.expected(workload.warmup)
        got = await self._delivered(ids, expected, 60.0)
        say(f"warm-up: {len(workload.warmup)} articles processed, {got} of {expected} alerts")

    async def _throughput(
        self,
        producer: AIOKafkaProducer,
        workers: Sequence[WorkerProcess],
        workload: Workload,
        result: Result,
        profile: bool,
    ) -> None:
        topics = workers[0].topics
        group = topics.environ()["MONITOR_APP_ID"]  # faust's consumer group is the app id
        total = len(workload.backlog)
        if profile and workers[0].process is not None:
            self.spy = Spy(workers[0].process.pid, self.workdir / "py-spy.txt")
            self.spy.start(time.monotonic())
        pids = [w.process.pid for w in workers if w.process is not None]
        cpu_before = sum(cpu_seconds(pid) for pid in pids)
        say(f"throughput: producing {total} articles as fast as possible")
        produce_start = time.monotonic()
        sent = [
            await producer.send(topics.articles, raw, key=article_id.encode())
            for article_id, raw in workload.backlog
        ]
        await asyncio.gather(*sent)
        say(f"produced in {time.monotonic() - produce_start:.1f} s; waiting for the worker(s)")
        # Progress = the group's committed offsets, read from the broker: scraping the workers'
        # /metrics twice a second would cost them more than a Prometheus server does.
        samples: list[tuple[float, float]] = [(produce_start, 0.0)]
        deadline = time.monotonic() + max(300.0, total / 20)
        async with _admin(self.bootstrap) as admin:
            base = len(workload.warmup)
            while samples[-1][1] < total and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                done = await _committed(admin, group, topics.articles) - base
                if done > samples[-1][1]:  # a commit happened since the previous poll
                    samples.append((time.monotonic(), done))
        cpu_used = sum(cpu_seconds(pid) for pid in pids) - cpu_before
        result.worker_cpu_ms = 1000 * cpu_used / max(samples[-1][1], 1)
        if self.spy is not None:
            result.profile = self.spy.stop(time.monotonic())
            self.spy = None
        low, high = crossing(samples, 0.1 * total), crossing(samples, 0.9 * total)
        if low is not None and high is not None and high > low:
            result.rate = 0.8 * total / (high - low)
        if samples[-1][1] >= total:
            result.overall_rate = total / (samples[-1][0] - produce_start)
        say(
            f"consumed {samples[-1][1]:.0f} of {total}: {result.rate:.0f} articles/s "
            f"(10-90 %), {result.overall_rate:.0f}/s from the first produced to the last commit; "
            f"worker CPU {result.worker_cpu_ms:.2f} ms/article"
        )
        ids = {article_id for article_id, _ in workload.backlog}
        result.throughput_expected = workload.expected(workload.backlog)
        result.throughput_delivered = await self._delivered(ids, result.throughput_expected, 120.0)
        say(f"webhooks: {result.throughput_delivered} of {result.throughput_expected} alerts")

    async def _delivered(self, ids: set[str], expected: int, within: float) -> int:
        """Wait until ``expected`` webhooks for ``ids`` arrived (or ``within`` s); their count."""
        deadline = time.monotonic() + within
        while True:
            received = webhooks_by_article(self.receiver, self.since)
            got = sum(len(v) for k, v in received.items() if k in ids)
            if got >= expected or time.monotonic() > deadline:
                return got
            await asyncio.sleep(0.5)

    async def _latency(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        workload: Workload,
        result: Result,
        alerts: AlertLog,
    ) -> None:
        rate = self.args.rate
        say(f"latency: {len(workload.paced)} articles at {rate:g}/s")
        produced: dict[str, tuple[float, float]] = {}
        sent = []
        start = time.monotonic()
        for n, (article_id, raw) in enumerate(workload.paced):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            produced[article_id] = (time.time(), time.monotonic())
            sent.append(await producer.send(topic, raw, key=article_id.encode()))
        await asyncio.gather(*sent)
        achieved = len(workload.paced) / (time.monotonic() - start)
        result.expected_alerts = workload.expected(workload.paced)
        # a worker slower than --rate still has a backlog to work off
        got = await self._delivered(
            set(produced), result.expected_alerts, 60.0 + len(workload.paced) / 20
        )
        for article_id, times in alerts.appended.items():
            if article_id in produced:
                result.to_alerts.extend(t - produced[article_id][0] for t in times)
        for article_id, times in webhooks_by_article(self.receiver, self.since).items():
            if article_id in produced:
                result.to_webhook.extend(t - produced[article_id][1] for t in times)
        say(
            f"produced at {achieved:.0f}/s; {len(result.to_alerts)} alerts on the topic, "
            f"{got} webhooks, {result.expected_alerts} expected"
        )


@contextlib.asynccontextmanager
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def _committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> float:
    """Messages of ``topic`` that ``group`` committed as processed (sum over partitions)."""
    offsets = await admin.list_consumer_group_offsets(group)
    return float(sum(max(0, meta.offset) for tp, meta in offsets.items() if tp.topic == topic))


def _ms(values: Sequence[float]) -> str:
    return "/".join(f"{1000 * percentile(values, q):.0f}" for q in (50, 95, 99))


def table(results: Sequence[Result], rate: float) -> str:
    header = (
        f"{'':<20} {'articles/s':>10} {'engine/s':>9} {'e2e/eng':>8} {'CPU ms/art':>11} "
        f"{'->alerts p50/95/99 ms':>22} {'->webhook p50/95/99 ms':>23} {'alerts':>9} "
        f"{'peak RSS MB':>12}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        ratio = r.rate / r.engine_rate if r.engine_rate else float("nan")
        rss = "/".join(f"{m:.0f}" for m in r.rss_mb) or "-"
        cpu = f"{r.worker_cpu_ms:.2f}/{r.engine_cpu_ms:.2f}"
        lines.append(
            f"{r.label:<20} {r.rate:>10.0f} {r.engine_rate:>9.0f} {ratio:>8.2f} {cpu:>11} "
            f"{_ms(r.to_alerts):>22} {_ms(r.to_webhook):>23} "
            f"{len(r.to_webhook):>4}/{r.expected_alerts:<4} {rss:>12}"
        )
    lines.append(
        f"latency at {rate:g} articles/s; 'alerts' = webhooks received / expected in that phase; "
        "RSS per worker (VmHWM);\n'CPU ms/art' = worker(s) CPU time per article in the throughput"
        " phase / engine-only CPU time per article (independent of how busy the machine is)"
    )
    one = next((r for r in results if r.workers == 1), None)
    if one is not None:
        lines.append(
            "targets (1 worker): "
            f">= {TARGET_RATE:.0f} articles/s: {_verdict(one.rate >= TARGET_RATE)} "
            f"({one.rate:.0f}); p99 produce -> webhook < {TARGET_P99_MS:.0f} ms: "
            f"{_verdict(percentile(one.to_webhook, 99) * 1000 < TARGET_P99_MS)}; "
            f"RSS < {TARGET_RSS_MB:.0f} MB: {_verdict(max(one.rss_mb, default=0) < TARGET_RSS_MB)}"
        )
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> list[Result]:
    bench = Bench(args, bootstrap, workdir)
    results: list[Result] = []
    try:
        pipeline, workload = await bench.prepare()
        for count in args.workers:
            result = await bench.scenario(pipeline, workload, count, args.profile and count == 1)
            results.append(result)
            if result.profile is not None:
                print(result.profile.report(args.top), flush=True)
    finally:
        bench.stop_workers()
        await bench.receiver.stop()
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--articles", type=int, default=None, help="backlog size (20000)")
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="paced articles/s (200)")
    parser.add_argument("--latency-seconds", type=float, default=None, help="paced phase (30)")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--profile", action="store_true", help="py-spy on the single worker")
    parser.add_argument("--top", type=int, default=25, help="functions in the profile")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument(
        "--declared", type=float, default=1.0, help="share of articles declaring a language (1.0)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data)")
    return parser


@contextlib.contextmanager
def _terminate_raises() -> Iterator[None]:
    """SIGTERM interrupts the bench like Ctrl-C, so every ``finally`` still stops its process."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.articles is None:
        args.articles = 1000 if args.quick else 20_000
    if args.latency_seconds is None:
        args.latency_seconds = 5.0 if args.quick else 30.0
    workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    broker: Broker | None = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    status = 1
    with _terminate_raises():
        try:
            if not bootstrap:
                broker = Broker(workdir / "kafka", port=free_port(), controller_port=free_port())
                say("starting a local Kafka broker...")
                broker.start()
                bootstrap = broker.bootstrap
            say(f"Kafka at {bootstrap}; work dir {workdir}")
            results = asyncio.run(run(args, bootstrap, workdir))
            print()
            print(
                f"end-to-end: {args.articles} backlog articles, {args.rules} rules, "
                f"one webhook subscriber; {os.cpu_count()} CPUs (shared)"
            )
            print(table(results, args.rate), flush=True)
            status = 0
        except KeyboardInterrupt:
            say("interrupted")
        finally:
            if broker is not None:
                broker.stop()
                say("Kafka stopped")
            if args.keep or status != 0:
                say(f"logs and data kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
