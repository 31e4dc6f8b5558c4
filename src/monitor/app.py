"""The Faust app: topics, the two stream stages, the story table, and the web endpoints.

    articles --parse/match/enrich--> <app>-matches (keyed by story routing key)
             `--invalid--> articles.dlq (reason in headers)
    <app>-matches --story table decides new/update/duplicate--> alerts (keyed by story_id)

The stages are thin: the work is done by ``Stages`` (pure pipeline + story logic), which the tests
can drive without Kafka. An event is acknowledged only after Kafka acknowledged what it produced,
so an offset is committed only after its output is on the broker (at-least-once end to end); the
articles stage does not wait for that inline (``PendingAcks``), the story stage does.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
import msgspec
from faust.types import EventT, StreamT, TopicT
from faust.web import Request, Response, View

from monitor import health, story
from monitor.alert import Alert, encode_alert
from monitor.article import parse_article
from monitor.errors import PROCESSING_FAILED, InvalidArticle, PublishError
from monitor.metrics import render
from monitor.pipeline import Finding
from monitor.runtime import Runtime
from monitor.settings import Settings
from monitor.severity import assess
from monitor.topics import record_limit
from monitor.transport import broker_url

log = logging.getLogger(__name__)

_finding_encoder = msgspec.json.Encoder()
_finding_decoder = msgspec.json.Decoder(Finding)

RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes}
RAW_SERIALIZERS: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
# Articles whose findings may wait for Kafka's acknowledgement at once (see PendingAcks).
MAX_UNACKED_ARTICLES = 1000


STORIES_TABLE = "stories"


def matches_topic(settings: Settings) -> str:
    """The internal topic between the two stages (the worker creates it before faust starts)."""
    return f"{settings.app_id}-matches"


def stories_changelog(settings: Settings) -> str:
    """The story table's changelog topic, as faust names it (the worker creates it before faust
    starts, compacted, as faust would)."""
    return f"{settings.app_id}-{STORIES_TABLE}-changelog"


def build_app(settings: Settings, runtime: Runtime) -> faust.App:
    """A Faust app wired to ``runtime`` (pipeline, metrics, readiness, delivery)."""
    session = settings.kafka_session_timeout
    app = faust.App(
        settings.app_id,
        broker=broker_url(settings.kafka_bootstrap_servers),
        store="memory://",  # state lives in changelog topics, not on local disk
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        broker_session_timeout=session,
        broker_heartbeat_interval=max(session / 10, 0.5),
        broker_rebalance_timeout=max(session * 2, 10.0),
        consumer_auto_offset_reset="earliest",
        producer_max_request_size=max(settings.max_article_bytes * 2, 1 << 20),
        # Per partition. A record over it may come back cut short, which aiokafka reports as
        # RecordTooLargeError and skips: it must hold the largest record the topics take.
        consumer_max_fetch_size=record_limit(settings),
        web_enabled=True,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        table_standby_replicas=0,
        # Every topic and table carries bytes that monitor encodes and validates itself.
        key_serializer="raw",
        value_serializer="raw",
    )
    partitions = settings.topic_partitions
    articles = app.topic(settings.topic_articles, partitions=partitions, **RAW, **RAW_SERIALIZERS)
    dead_letters = app.topic(
        settings.topic_articles_dlq, partitions=partitions, **RAW, **RAW_SERIALIZERS
    )
    matches = app.topic(
        matches_topic(settings),
        partitions=partitions,
        internal=True,
        **RAW,
        **RAW_SERIALIZERS,
    )
    alerts = app.topic(settings.topic_alerts, partitions=partitions, **RAW, **RAW_SERIALIZERS)
    stories = app.Table(STORIES_TABLE, partitions=partitions, key_type=bytes, value_type=bytes)
    window = timedelta(hours=settings.story_window_hours)

    @app.agent(articles, name="articles")
    async def consume_articles(stream: StreamT[Any]) -> AsyncIterator[None]:
        manual: StreamT[Any] = stream.noack()  # type: ignore[attr-defined]  # not on StreamT
        acks = PendingAcks(manual, limit=MAX_UNACKED_ARTICLES)
        async for event in manual.events():
            acks.raise_failure()
            started = time.monotonic()
            runtime.metrics.article_consumed()
            # A tombstone (null value) is not an article either: it is dead-lettered as not_json.
            raw = event.value if isinstance(event.value, bytes) else b""
            try:
                article = parse_article(raw, max_bytes=settings.max_article_bytes)
            except InvalidArticle as exc:
                await _dead_letter(dead_letters, event, exc.reason, exc.detail)
                runtime.metrics.article_dead_lettered(exc.reason)
                log.warning(
                    "article dead-lettered",
                    extra={"reason": exc.reason, "detail": exc.detail[:200]},
                )
                await acks.ack_when_sent(event, [])  # in reading order, as every event
                continue
            try:
                findings = runtime.pipeline.findings(article, datetime.now(UTC))
            except Exception as exc:
                # A bug costs one article, not the stream: faust would restart the agent and
                # skip the article without a trace; it is kept on the dead-letter topic instead.
                log.exception("article dead-lettered", extra={"article_id": article.id})
                await _processing_failed(runtime, dead_letters, event, exc)
                await acks.ack_when_sent(event, [])  # in reading order, as every event
                continue
            # The processing clock starts at consume; the story stage reads it back.
            consumed_at = repr(started + _wall_offset()).encode() if findings else b""
            sent = []
            for finding in findings:
                runtime.metrics.rule_matched(finding.alert.rule_id)
                sent.append(
                    await matches.send(
                        key=finding.routing_key.encode(),
                        value=_finding_encoder.encode(finding),
                        headers={"monitor-consumed-at": consumed_at},
                    )
                )
            await acks.ack_when_sent(event, sent)
            yield None

    @app.agent(matches, name="stories")
    async def decide_stories(stream: StreamT[Any]) -> AsyncIterator[None]:
        async for event in stream.events():
            try:
                finding = _finding_decoder.decode(event.value)
                key = finding.routing_key.encode()
                stored = stories.get(key)
                book = story.decode_book(stored) if isinstance(stored, bytes) else None
                now = datetime.now(UTC)
                decision, new_book = story.decide(book, finding.candidate, now, window)
                alert = (
                    None
                    if decision.status == "duplicate"
                    else _finalise(runtime, finding.alert, decision)
                )
            except Exception as exc:
                # As in the articles stage: a bug (or a match written by an incompatible
                # version) costs this match, kept on the dead-letter topic, not the stream.
                log.exception("match dead-lettered")
                await _processing_failed(runtime, dead_letters, event, exc)
                continue
            if alert is not None:
                sent = await alerts.send(
                    key=alert.story_id.encode(),
                    value=encode_alert(alert),
                    headers={"monitor-alert-id": alert.alert_id.encode()},
                )
                await sent
                runtime.metrics.alert_published(alert, _since_consumed(event))
                log.info(
                    "alert published",
                    extra={
                        "article_id": alert.article_id,
                        "rule_id": alert.rule_id,
                        "story_id": alert.story_id,
                        "status": alert.status,
                    },
                )
            stories[key] = story.encode_book(new_book)
            yield None

    _add_views(app, runtime)
    runtime.attach(app)
    return app


class PendingAcks:
    """Acknowledges the events of a ``noack()`` stream in the order they were read, each once
    Kafka acknowledged its sends.

    Faust commits a partition up to its first run of consecutive acknowledged offsets and takes
    everything below the smallest one as done (``Consumer._new_offset``): an event acknowledged
    out of order would commit past an earlier one whose findings are still in flight, and a crash
    then loses it. (Our consumer also refuses a run that does not start at the partition's head,
    ``monitor.transport``; acknowledging in order keeps its commits moving.) So an event without
    findings waits for the events before it, and a match costs no stall of a produce round trip
    either way: the stream goes on reading. A send that fails leaves its event and every later one
    unacknowledged for good (never committed) and is raised as ``PublishError`` in the agent at
    its next event. At most ``limit`` events wait at once; the next one waits for the oldest.
    """

    def __init__(self, stream: StreamT[Any], *, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        # in reading order: each event with the future of its sends (None: nothing was sent)
        self._queue: collections.deque[tuple[EventT[Any], asyncio.Future[Any] | None]] = (
            collections.deque()
        )
        self._acking: asyncio.Task[None] | None = None  # the latest; each awaits the one before
        self._failure: BaseException | None = None

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise PublishError(
                f"a finding was not acknowledged by Kafka: {self._failure!r}", retriable=True
            ) from self._failure

    async def ack_when_sent(self, event: EventT[Any], sent: list[Awaitable[Any]]) -> None:
        if len(self._queue) >= self._limit:
            head = self._queue[0][1]
            if head is not None:
                await asyncio.wait({head})
        waiting = asyncio.gather(*sent) if sent else None
        self._queue.append((event, waiting))
        if waiting is None:
            self._release()
        else:
            waiting.add_done_callback(self._sent)

    def _sent(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            failure = future.exception()
            self._failure = self._failure or failure
            log.error("a finding was not acknowledged by Kafka: %r", failure)
        self._release()

    def _release(self) -> None:
        """Acknowledge the head of the queue while its sends are done and succeeded."""
        ready: list[EventT[Any]] = []
        while self._queue and self._failure is None:
            event, waiting = self._queue[0]
            if waiting is not None and (not waiting.done() or waiting.cancelled()):
                break
            if waiting is not None and waiting.exception() is not None:
                break
            self._queue.popleft()
            ready.append(event)
        if ready:
            self._acking = asyncio.ensure_future(self._ack(self._acking, ready))

    async def _ack(self, before: asyncio.Task[None] | None, events: list[EventT[Any]]) -> None:
        if before is not None:
            await asyncio.wait({before})  # acknowledgements stay in reading order
        for event in events:
            await self._stream.ack(event)


async def _dead_letter(topic: TopicT, event: EventT[Any], reason: str, detail: str) -> None:
    message = event.message
    headers = {
        "monitor-error-reason": reason.encode(),
        "monitor-error-detail": detail[:1000].encode(),
        "monitor-source-topic": message.topic.encode(),
        "monitor-source-partition": str(message.partition).encode(),
        "monitor-source-offset": str(message.offset).encode(),
    }
    value = event.value if isinstance(event.value, bytes) else b""
    if reason == "too_large":
        # The broker would refuse the whole value again; keep its head and say so.
        headers["monitor-truncated-from"] = str(len(value)).encode()
        value = value[:65536]
    sent = await topic.send(key=event.key, value=value, headers=headers)
    await sent


async def _processing_failed(
    runtime: Runtime, topic: TopicT, event: EventT[Any], exc: Exception
) -> None:
    """Keep an event a bug failed on, with the exception, on the dead-letter topic, counted."""
    await _dead_letter(topic, event, PROCESSING_FAILED, f"{type(exc).__name__}: {exc}")
    runtime.metrics.article_dead_lettered(PROCESSING_FAILED)


def _finalise(runtime: Runtime, draft: Alert, decision: story.Decision) -> Alert:
    severity, reasons = draft.severity, draft.severity_reasons
    rule = runtime.pipeline.ruleset.get(draft.rule_id)
    if rule is not None:
        figures = {f.kind: f.value for f in sorted(draft.figures, key=lambda f: f.value)}
        severity, reasons = assess(
            rule.severity.base,
            rule.severity.escalate,
            figure=figures.get,
            sources=decision.sources,
        )
    return msgspec.structs.replace(
        draft,
        status="new" if decision.status == "new" else "update",
        story_id=decision.story_id,
        story_sources=decision.sources,
        severity=severity,
        severity_reasons=reasons,
    )


def _wall_offset() -> float:
    return time.time() - time.monotonic()


def _since_consumed(event: EventT[Any]) -> float | None:
    headers = dict(event.headers or {})
    raw = headers.get("monitor-consumed-at")
    if raw is None:
        return None
    try:
        return max(0.0, time.time() - float(raw))
    except ValueError:
        return None


def _add_views(app: faust.App, runtime: Runtime) -> None:
    @app.page("/metrics")
    async def metrics(web: View, request: Request) -> Response:
        body, content_type = render(runtime.registry)
        return web.bytes(body, content_type=content_type.split(";")[0])

    @app.page("/healthz")
    async def healthz(web: View, request: Request) -> Response:
        status, body = health.healthz()
        return web.json(body, status=status)

    @app.page("/readyz")
    async def readyz(web: View, request: Request) -> Response:
        status, body = health.readyz(runtime.readiness)
        return web.json(body, status=status)
