"""Bad input through the real articles topic and a real ``monitor worker``.

Hypothesis draws a batch of malformed payloads (broken UTF-8, text that is not JSON, JSON of the
wrong shape, blank articles, huge fields, raw noise); with them go a 10 MB article, JSON nested
100,000 levels deep and good articles in between. Each bad one must land on ``articles.dlq`` with
the right reason, the good ones must still become alerts, the worker must stay up and its memory
bounded. The last two tests show where the size limits are: what the topics take is sent, what
they do not take is a clear error at ``monitor produce``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from monitor.article import parse_article
from monitor.errors import InvalidArticle
from monitor.producer import messages, produce_files
from monitor.settings import Settings
from monitor.topics import ensure_topics, record_limit, topic_configs
from tests.worker_support import REPO, Record, Topics, WorkerProcess, metric_value, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

MB = 1024 * 1024
TEN_MB = 10 * MB
DLQ_HEAD = 65536  # app._dead_letter keeps this much of a too_large article
BIG_COUNT = 4  # 10 MB articles among the bad batch
MORE_BIG = 16  # and after it, alone: 200 MB of oversized input in all
# Peak RSS of the worker over its RSS after a warm-up article. The worker holds a few 10 MB
# records at once (aiokafka's fetch buffers, up to 16 MiB per partition, the record values and
# events faust has taken but the agent not yet finished), and freed memory stays with the process.
# Measured on a scratch run: 58 ten-MB articles in bursts of 1 to 12 peaked at +120 MB and stayed
# there. 160 MB is that plateau with room; a worker that kept every oversized record would need
# more than the 200 MB sent.
RSS_BOUND_MB = 160

BAD_BATCH = 40
GOOD = [
    json.loads(line)
    for line in (REPO / "examples" / "articles.jsonl").read_text().splitlines()
    if line.strip()
]
ALERTING = [doc for doc in GOOD if doc["id"] in ("ex-en-001", "ex-de-001", "ex-fr-001")]


def _good(n: int) -> tuple[bytes, bytes]:
    """A good article that fires a rule; its own id and source, so the story stage never calls it
    a duplicate of another."""
    doc = {**ALERTING[n % len(ALERTING)], "id": f"good-{n}", "source": f"wire-{n}"}
    return doc["id"].encode(), json.dumps(doc).encode()


def _article(**changes: Any) -> bytes:
    return json.dumps({**ALERTING[0], **changes}).encode()


# -- the bad payloads, each tagged with the reason a person would give -----------------------------

_invalid_utf8 = st.sampled_from([b"\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\xff", b"\xe2\x82"])
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_required = ["id", "url", "title", "text", "source", "published_at"]


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _noise(raw: bytes) -> tuple[bytes, str]:
    try:
        parse_article(raw)
    except InvalidArticle as exc:
        return raw, exc.reason
    return raw, "accepted"  # filtered out below: random bytes that are an article are not bad


bad_payloads = st.one_of(
    st.builds(
        lambda a, bad, b: (a.encode() + bad + b.encode(), "not_utf8"),
        st.text(max_size=50),
        _invalid_utf8,
        st.text(max_size=50),
    ),
    st.text(max_size=100).filter(lambda t: not _is_json(t)).map(lambda t: (t.encode(), "not_json")),
    st.integers(0, 400).map(lambda cut: (_article()[:cut], "not_json")),
    st.sampled_from(["title", "text"]).map(
        lambda field: (_article(**{field: "a\u2603b"}).replace(b"\\u2603", b"\x07"), "not_json")
    ),
    _json_values.filter(lambda v: not isinstance(v, dict)).map(
        lambda v: (json.dumps(v).encode(), "invalid_schema")
    ),
    st.sampled_from(_required).map(
        lambda f: (
            json.dumps({k: v for k, v in ALERTING[0].items() if k != f}).encode(),
            "invalid_schema",
        )
    ),
    st.tuples(st.sampled_from(_required), st.integers() | st.lists(st.integers(), max_size=2)).map(
        lambda fv: (_article(**{fv[0]: fv[1]}), "invalid_schema")
    ),
    st.integers(1025, 300_000).map(lambda n: (_article(title="t" * n), "invalid_schema")),
    st.tuples(st.text(" \t\n", max_size=5), st.text(" \u00a0\n", max_size=5)).map(
        lambda tt: (_article(title=tt[0], text=tt[1]), "empty")
    ),
    st.binary(max_size=2000).map(_noise).filter(lambda p: p[1] != "accepted"),
)


def draw_bad_payloads(count: int, rng_seed: int) -> list[tuple[bytes, str]]:
    """``count`` payloads drawn by Hypothesis from ``bad_payloads``, reproducible from the seed.

    ``.example()`` is for interactive use (it warns, and warnings are errors here); a ``@given``
    function that only collects its examples is Hypothesis's supported way to draw a batch.
    """
    drawn: list[tuple[bytes, str]] = []

    @seed(rng_seed)
    @settings(
        max_examples=count,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(bad_payloads)
    def collect(payload: tuple[bytes, str]) -> None:
        drawn.append(payload)

    collect()
    return drawn[:count]


# -- memory of a process ---------------------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@dataclasses.dataclass
class RssSampler:
    """Samples VmRSS of ``pid`` every ``every`` seconds in a thread; ``peak_kb`` is the largest.

    If the kernel lets us reset the high-water mark (``clear_refs`` 5), ``VmHWM`` at the end is the
    exact peak since the reset and is taken as well, so a spike between samples is not missed.
    """

    pid: int
    every: float = 0.05
    peak_kb: int = 0
    hwm_reset: bool = False
    _stop: threading.Event = dataclasses.field(default_factory=threading.Event)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))

    @contextlib.contextmanager
    def running(self) -> Iterator[RssSampler]:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))
            if self.hwm_reset:
                self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmHWM"))


def _alerted(records: list[Record], ids: set[str]) -> bool:
    return ids <= {json.loads(r.value)["article_id"] for r in records}


# -- the tests -------------------------------------------------------------------------------------


async def test_bad_input_is_dead_lettered_with_its_reason_and_the_stream_goes_on(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """Every malformed payload (a Hypothesis batch, a tombstone, four 10 MB articles, 100,000
    levels of nesting) lands on ``articles.dlq`` keyed as sent, with the right
    ``monitor-error-reason``, a detail and its source offset, byte-identical except the 10 MB
    ones, which are cut to 64 KB and say so; good articles sent between and after them still
    become alerts; the worker answers ``/healthz`` throughout; its peak RSS stays under its
    warmed-up RSS + ``RSS_BOUND_MB`` through 200 MB of oversized articles."""
    rng_seed = int(os.environ.get("MONITOR_FUZZ_SEED") or random.randrange(2**32))
    context = f"(MONITOR_FUZZ_SEED={rng_seed} reproduces the batch)"
    drawn = draw_bad_payloads(BAD_BATCH, rng_seed)
    assert len(drawn) >= BAD_BATCH // 2, f"Hypothesis drew only {len(drawn)} payloads {context}"
    for raw, reason in drawn:  # the tags are right, or the checks below would mislead
        with pytest.raises(InvalidArticle) as caught:
            parse_article(raw)
        assert caught.value.reason == reason, f"{raw[:100]!r} {context}"

    topics = Topics(unique_name)
    worker = WorkerProcess(kafka_bootstrap, topics, tmp_path / "worker.log")
    with worker:
        await worker.wait_ready()
        assert worker.process is not None
        settings_ = dataclasses.replace(
            Settings.from_env(worker.environ()), kafka_bootstrap_servers=kafka_bootstrap
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_bootstrap, acks="all", max_request_size=record_limit(settings_)
        )
        await producer.start()
        try:

            async def send(key: bytes, value: bytes | None) -> None:
                await producer.send_and_wait(topics.articles, key=key, value=value)

            async def send_big(numbers: range) -> dict[bytes, tuple[str, bytes]]:
                """10 MB articles through ``monitor produce``'s code, as one file."""
                big = tmp_path / f"big-{numbers.start}.jsonl"
                big.write_bytes(
                    b"".join(
                        _article(id=f"big-{n}", text=str(n % 10) * TEN_MB) + b"\n" for n in numbers
                    )
                )
                sent = await produce_files(settings_, topics.articles, [big], raw=True)
                assert sent == len(numbers)
                return {
                    key: ("too_large", value)
                    for key, value in messages([big], raw=True, max_bytes=TEN_MB)
                }

            # Warm up: language models and enrichment data load on the first article; the memory
            # bound is about bad input, not about that.
            await send(*_good(0))
            warm = await read_topic(
                kafka_bootstrap, topics.alerts, until=lambda r: _alerted(r, {"good-0"})
            )
            assert _alerted(warm, {"good-0"}), worker.tail()
            baseline_kb = _status_kb(worker.process.pid, "VmRSS")

            expected: dict[bytes, tuple[str, bytes]] = {}  # key -> (reason, value sent)
            good_ids: set[str] = {"good-0"}
            health: list[int] = []
            with RssSampler(worker.process.pid).running() as rss:
                for i, (raw, reason) in enumerate(drawn):
                    key = f"bad-{i}".encode()
                    expected[key] = (reason, raw)
                    await send(key, raw)
                await send(b"tombstone", None)
                expected[b"tombstone"] = ("not_json", b"")

                expected.update(await send_big(range(BIG_COUNT)))
                health.append(worker.get("/healthz")[0])

                for n in (1, 2):
                    key, value = _good(n)
                    await send(key, value)
                    good_ids.add(key.decode())
                deep = _article(id="deep-1").replace(
                    b"{", b'{"extra": ' + b"[" * 100_000 + b"]" * 100_000 + b", ", 1
                )
                await send(b"deep-1", deep)
                expected[b"deep-1"] = ("invalid_schema", deep)
                deep_top = b'{"a":' * 100_000
                await send(b"deep-2", deep_top)
                expected[b"deep-2"] = ("invalid_schema", deep_top)
                for n in (3, 4):
                    key, value = _good(n)
                    await send(key, value)
                    good_ids.add(key.decode())

                dead = await read_topic(
                    kafka_bootstrap,
                    topics.dlq,
                    until=lambda r: set(expected) <= {x.key for x in r},
                    within=90,
                )
                health.append(worker.get("/healthz")[0])
                alerts = await read_topic(
                    kafka_bootstrap, topics.alerts, until=lambda r: _alerted(r, good_ids), within=60
                )
                health.append(worker.get("/healthz")[0])

            with RssSampler(worker.process.pid).running() as rss_more:
                more = await send_big(range(BIG_COUNT, BIG_COUNT + MORE_BIG))
                more_dead = await read_topic(
                    kafka_bootstrap,
                    topics.dlq,
                    until=lambda r: set(more) <= {x.key for x in r},
                    within=90,
                )
            health.append(worker.get("/healthz")[0])
        finally:
            await producer.stop()

        by_key = {r.key: r for r in dead}
        assert set(by_key) == set(expected), (
            f"missing {sorted(set(expected) - set(by_key))[:5]} {context}\n{worker.tail()}"
        )
        assert len(dead) == len(expected), f"dead-lettered more than once {context}"
        for key, (reason, value) in expected.items():
            record = by_key[key]
            assert record.headers["monitor-error-reason"] == reason.encode(), (key, context)
            assert record.headers["monitor-error-detail"], (key, context)
            assert record.headers["monitor-source-topic"] == topics.articles.encode()
            assert int(record.headers["monitor-source-offset"]) >= 0
            if reason == "too_large":
                assert record.value == value[:DLQ_HEAD]
                assert record.headers["monitor-truncated-from"] == str(len(value)).encode()
            else:
                assert record.value == value, (key, context)

        assert _alerted(alerts, good_ids), f"the stream stopped {context}\n{worker.tail()}"
        assert not any(k and k.startswith(b"good-") for k in by_key)

        more_by_key = {r.key: r for r in more_dead}
        assert set(more) <= set(more_by_key), worker.tail()
        for key, (_, value) in more.items():
            assert more_by_key[key].headers["monitor-error-reason"] == b"too_large"
            assert more_by_key[key].value == value[:DLQ_HEAD]
        expected.update(more)

        assert worker.process.poll() is None, worker.tail()
        assert health == [200, 200, 200, 200]
        status, body = worker.get("/metrics")
        assert status == 200
        counts = collections.Counter(reason for reason, _ in expected.values())
        for reason, count in counts.items():
            seen = metric_value(body, "monitor_articles_dead_lettered_total", reason=reason)
            assert seen == count, (reason, context)

        first_mb = (rss.peak_kb - baseline_kb) / 1024
        peak_mb = (max(rss.peak_kb, rss_more.peak_kb) - baseline_kb) / 1024
        how = "VmHWM" if rss.hwm_reset else "sampled VmRSS"
        print(
            f"worker RSS ({how}): warmed-up {baseline_kb / 1024:.0f} MB, peak with the bad batch "
            f"+{first_mb:.0f} MB, with {MORE_BIG} more 10 MB articles "
            f"+{(rss_more.peak_kb - baseline_kb) / 1024:.0f} MB {context}"
        )
        assert peak_mb < RSS_BOUND_MB, f"peak RSS grew {peak_mb:.0f} MB {context}"
        assert worker.terminate(within=60) == 0, worker.tail()


def _produce_cli(bootstrap: str, topic: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    return subprocess.run(
        [sys.executable, "-m", "monitor", "produce", "--raw", "--topic", topic, str(path)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_a_record_over_the_topic_limit_is_a_clear_error_at_monitor_produce(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """On topics made by ``ensure_topics``, ``monitor produce`` sends a record right under the
    record limit, and refuses one a byte over it with exit code 1 and one line naming the size:
    nothing is sent."""
    settings_ = Settings.from_env({"MONITOR_TOPIC_ARTICLES": f"{unique_name}.articles"})
    limit = record_limit(settings_)
    topic = settings_.topic_articles
    await ensure_topics(
        kafka_bootstrap, {topic: 1}, replication=1, configs=topic_configs(settings_)
    )
    fits = tmp_path / "fits.jsonl"
    fits.write_bytes(b"x" * (limit - 200) + b"\n")
    over = tmp_path / "over.jsonl"
    over.write_bytes(b"y" * (limit + 1) + b"\n")

    done = _produce_cli(kafka_bootstrap, topic, fits)
    assert done.returncode == 0, done.stderr
    done = _produce_cli(kafka_bootstrap, topic, over)
    assert done.returncode == 1
    assert f"a message of {limit + 1} bytes is larger than the topic accepts" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr

    on_topic = await read_topic(kafka_bootstrap, topic, count=1, settle=2.0)
    assert [len(r.value) for r in on_topic] == [limit - 200]


async def test_a_topic_with_a_lower_limit_refuses_loudly_not_silently(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """A topic created elsewhere with Kafka's default 1 MB limit refuses a 3 MB article at the
    broker; ``monitor produce`` exits 1 naming the size instead of losing it quietly."""
    topic = f"{unique_name}.articles"
    await ensure_topics(kafka_bootstrap, {topic: 1}, replication=1)  # no monitor configs
    path = tmp_path / "three-mb.jsonl"
    path.write_bytes(_article(text="z" * (3 * MB)) + b"\n")
    size = len(path.read_bytes()) - 1

    done = _produce_cli(kafka_bootstrap, topic, path)
    assert done.returncode == 1, done.stderr
    assert f"a message of {size} bytes is larger than the topic accepts" in done.stderr
    assert await read_topic(kafka_bootstrap, topic, within=3.0) == []
