"""The durable delivery loop: one Kafka consumer position per subscriber, nothing ever lost.

Each enabled subscriber gets a ``SubscriberDelivery``: its own ``AIOKafkaConsumer`` on the alerts
topic (group ``<app_id>-deliver-<subscriber_id>``, no auto-commit), its own tasks, breaker and
request slots, so a slow or dead desk never delays another. A record is *done* when the filter
rejects it, when it is delivered, or when its dead letter is acknowledged by Kafka; per partition
only the offset below which every record is done is committed (``OffsetTracker``). A crash at any
moment therefore re-delivers (with the same ``webhook-id``) and never loses. A record that is not
an alert, or that the delivery code raises on, is dead-lettered too (``undecodable``,
``processing_failed``): one bad record never holds up its partition, and none is skipped in
silence (docs/delivery.md, "When something other than the desk fails").

Several workers share each subscriber's group, every one with its own ``SubscriberDelivery``. A
subscriber disabled by an HTTP 410 is disabled in the worker that got the 410, in memory, not in
a table, on purpose: each worker learns it from its own first 410 (one more request, and one more
alert dead-lettered as ``gone``, per worker), dead-letters what it had in flight as ``disabled``,
and stops fetching; the alerts of its partitions wait in Kafka, uncommitted. Nothing is lost or
silent (a log line and ``monitor_webhook_subscriber_disabled`` per worker), and a restart asks the
desk again, so a desk that brought its endpoint back gets the waiting alerts without a shared
"re-enable" switch to operate. What would need shared state, a worker that never calls a gone desk
at all, is not worth a table: a 410 costs the desk nothing. Alerts waiting longer than the alerts
topic's retention are deleted by Kafka: a disabled desk is an operator's task (docs/delivery.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import httpx
import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import (
    BrokerNotAvailableError,
    KafkaError,
    KafkaTimeoutError,
    KafkaUnavailableError,
    MessageSizeTooLargeError,
    ProducerClosed,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from monitor.alert import Alert, decode_alert
from monitor.deliver.attempts import Attempts, DeliveryResult, sleep_or_halt
from monitor.deliver.breaker import CircuitBreaker
from monitor.deliver.deadletter import DeadLetter, DeadLetterReason, encode_dead_letter
from monitor.deliver.destination import Resolver, resolve_host
from monitor.deliver.observer import DeliveryObserver, NoopObserver
from monitor.deliver.offsets import OffsetTracker
from monitor.deliver.retry import RetryPolicy
from monitor.deliver.subscriptions import Subscription, Subscriptions
from monitor.deliver.webhook import WebhookSender, build_request, webhook_id
from monitor.errors import PublishError
from monitor.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DeliveryOptions:
    """Tuning knobs with sensible defaults (not in the environment yet)."""

    concurrency: int = 8
    """Concurrent HTTP requests per subscriber."""
    window: int = 256
    """Records fetched but not done, per subscriber: bounds memory and re-delivery after a crash."""
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    poll_timeout: float = 0.5
    auto_offset_reset: str = "earliest"
    """Where a brand-new subscriber starts: ``earliest`` never loses what the topic retains."""
    dead_letter_retry: float = 1.0
    """Seconds between tries of a dead letter while Kafka answers a transient error."""
    dead_letter_stuck_retry: float = 30.0
    """Seconds between tries of a dead letter Kafka refuses for good (e.g. not authorized)."""


def group_id(settings: Settings, subscriber_id: str) -> str:
    return f"{settings.app_id}-deliver-{subscriber_id}"


def dead_letter_reason(result: DeliveryResult, disabled: bool) -> DeadLetterReason | None:
    """What to dead-letter after a delivery ended; None when the record is done without one
    (delivered) or must stay undone (halted by a shutdown: delivered again after the restart)."""
    match result.outcome:
        case "delivered":
            return None
        case "gone":
            return "gone"
        case "halted":
            return "disabled" if disabled else None
        case "dead":
            return (
                "refused"
                if result.last_outcome == "refused"
                else ("exhausted" if result.last_outcome == "retriable" else "rejected")
            )
    return None  # pragma: no cover


_SIZE_ERRORS = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)
# not flagged ``retriable`` by aiokafka, yet gone once the broker is back (a send to a broker
# that is down ends in a KafkaTimeoutError), or once the dispatcher stops (ProducerClosed)
_TRANSIENT_ERRORS = (
    KafkaTimeoutError,
    KafkaUnavailableError,
    BrokerNotAvailableError,
    ProducerClosed,
)


def transient(exc: KafkaError) -> bool:
    """Whether writing again may succeed without anyone changing anything."""
    return bool(exc.retriable) or isinstance(exc, _TRANSIENT_ERRORS)


class DeadLetterSink:
    """Writes dead letters to ``settings.topic_webhook_dlq``, retrying until acknowledged.

    What Kafka answers decides how (docs/delivery.md, "When the dead-letter topic refuses"):

    - a transient error (aiokafka's ``retriable``, a timeout): tried again every ``retry_delay`` s;
    - *too large*: written at once again without the alert's body (``DeadLetter.without_body``),
      which stays on the alerts topic at the letter's partition and offset;
    - any other error (not authorized, an invalid topic): retrying alone does not fix it, an
      operator does. The letter is *stuck*: an error log, ``observer.dead_letter_stuck`` while it
      lasts, a try every ``stuck_retry`` s. Its alert is not done, so its partition commits no
      further for this subscriber: nothing is lost, and a restart delivers it again.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry_delay: float = 1.0,
        stuck_retry: float = 30.0,
        observer: DeliveryObserver | None = None,
    ) -> None:
        self._settings = settings
        self._retry_delay = retry_delay
        self._stuck_retry = stuck_retry
        self._observer: DeliveryObserver = observer or NoopObserver()
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.app_id}-deliver-dlq",
            acks="all",
            enable_idempotence=True,
        )

    async def start(self) -> None:
        try:
            await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            raise PublishError(f"dead-letter producer: {exc}", retriable=True) from exc

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, letter: DeadLetter, halt: asyncio.Event) -> bool:
        """True once Kafka acknowledged ``letter`` (or its body-less copy, when it refused the
        size); False if ``halt`` was set while Kafka kept failing."""
        stuck = False
        try:
            while True:
                try:
                    await self._producer.send_and_wait(
                        self._settings.topic_webhook_dlq,
                        encode_dead_letter(letter),
                        key=letter.key(),
                        headers=letter.headers(),
                    )
                except KafkaError as exc:
                    if isinstance(exc, _SIZE_ERRORS) and not letter.body_dropped:
                        log.error(
                            "%s: dead letter %s refused as too large (%r): written without "
                            "its body; the alert stays on %s partition %s offset %s",
                            letter.subscriber_id,
                            letter.webhook_id,
                            exc,
                            self._settings.topic_alerts,
                            letter.partition,
                            letter.offset,
                        )
                        letter = letter.without_body(f"body dropped: {type(exc).__name__}")
                        continue
                    if transient(exc):
                        log.warning(
                            "dead letter for %s not written yet: %r", letter.subscriber_id, exc
                        )
                        delay = self._retry_delay
                    else:
                        if not stuck:
                            stuck = True
                            self._observer.dead_letter_stuck(letter.subscriber_id, True)
                            log.error(
                                "%s: Kafka refuses the dead letter %s with %r, which retrying "
                                "does not fix: the alert at %s partition %s offset %s stays "
                                "uncommitted and is tried again every %g s",
                                letter.subscriber_id,
                                letter.webhook_id,
                                exc,
                                self._settings.topic_alerts,
                                letter.partition,
                                letter.offset,
                                self._stuck_retry,
                            )
                        delay = self._stuck_retry
                    if await sleep_or_halt(halt, delay):
                        return False
                    continue
                if stuck:
                    log.warning(
                        "%s: dead letter %s written at last",
                        letter.subscriber_id,
                        letter.webhook_id,
                    )
                return True
        finally:
            if stuck:
                self._observer.dead_letter_stuck(letter.subscriber_id, False)


class _Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, delivery: SubscriberDelivery) -> None:
        self._delivery = delivery

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._delivery.revoked(list(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        log.debug("%s assigned %s", self._delivery.subscription.id, sorted(map(str, assigned)))


class SubscriberDelivery:
    """One subscriber's consumer, in-flight deliveries and commits."""

    def __init__(
        self,
        subscription: Subscription,
        settings: Settings,
        *,
        sender: WebhookSender,
        dead_letters: DeadLetterSink,
        observer: DeliveryObserver,
        options: DeliveryOptions,
        rng: random.Random,
        on_disabled: Callable[[str], None] | None = None,
    ) -> None:
        self.subscription = subscription
        self._settings = settings
        self._dead_letters = dead_letters
        self._observer = observer
        self._options = options
        self._on_disabled = on_disabled
        self.attempts = Attempts(
            sender=sender,
            policy=RetryPolicy(settings.webhook_retry_schedule, rng),
            breaker=CircuitBreaker(
                threshold=options.breaker_threshold, cooldown=options.breaker_cooldown
            ),
            slots=asyncio.Semaphore(options.concurrency),
            observer=observer,
        )
        self._tracker: OffsetTracker[TopicPartition] = OffsetTracker()
        self._tasks: set[asyncio.Task[None]] = set()
        self._progress = asyncio.Event()
        self._stopping = asyncio.Event()
        self._halt = asyncio.Event()  # interrupts waits: shutdown, or the subscriber was disabled
        self._runner: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self.disabled = False

    @property
    def group_id(self) -> str:
        return group_id(self._settings, self.subscription.id)

    def assignment(self) -> set[TopicPartition]:
        """The alerts partitions this worker delivers to the subscriber now."""
        return set(self._consumer.assignment()) if self._consumer is not None else set()

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset=self._options.auto_offset_reset,
            isolation_level="read_committed",
            session_timeout_ms=int(self._settings.kafka_session_timeout * 1000),
        )
        consumer.subscribe([self._settings.topic_alerts], listener=_Revocations(self))
        try:
            await consumer.start()
        except KafkaError as exc:
            await consumer.stop()
            raise PublishError(f"consumer {self.group_id}: {exc}", retriable=True) from exc
        self._consumer = consumer
        self._runner = asyncio.create_task(self._run(), name=f"deliver-{self.subscription.id}")

    async def stop(self, grace: float) -> None:
        """Stop fetching, let running requests finish (up to ``grace`` s), commit, leave."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._halt.set()  # retries waiting for hours are re-delivered after the restart
        if self._runner is not None:
            await asyncio.wait([self._runner], timeout=grace)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
                log.warning("%s: %d delivery(ies) cut short", self.subscription.id, len(pending))
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
            await asyncio.wait([self._runner])
        await self._commit()
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        """Fetch and start deliveries until stopped (or disabled with nothing in flight).

        A turn that raises something unexpected (a bug, not Kafka: its errors are handled in
        ``_turn``) is logged with its traceback, counted (``loop_failed``) and tried again after
        a pause. Without this the task ended, the worker went on, and the subscriber received
        nothing more until a restart, with one log line to show for it. Nothing is lost either
        way: a record is committed only once it is done."""
        while not self._stopping.is_set():
            try:
                if not await self._turn():
                    break
            except Exception:
                log.exception(
                    "%s: the delivery loop raised; it goes on after a pause", self.subscription.id
                )
                self._observer.processing_error(self.subscription.id, "loop_failed")
                await sleep_or_halt(self._stopping, self._options.poll_timeout)
        await self._commit()

    async def _turn(self) -> bool:
        """One turn of the loop: wait for room, or fetch and start what came; commit what is
        done. False when the loop should end (disabled, nothing left in flight)."""
        consumer = self._consumer
        assert consumer is not None
        if self.disabled:
            if not self._tasks:
                return False
            await self._wait_progress()
        elif self._tracker.in_flight() >= self._options.window:
            await self._wait_progress()
        else:
            try:
                batch = await consumer.getmany(
                    timeout_ms=int(self._options.poll_timeout * 1000),
                    max_records=self._options.window - self._tracker.in_flight(),
                )
            except KafkaError as exc:
                log.warning("%s: fetch failed: %r", self.subscription.id, exc)
                await self._wait_progress()
                return True
            if self.disabled or self._stopping.is_set():
                # a 410 (or the shutdown) came during the poll: what it fetched is left
                # unstarted, so uncommitted, in Kafka, as everything after it
                return True
            for tp, records in batch.items():
                for record in records:
                    self._tracker.start(tp, record.offset)
                    task = asyncio.create_task(self._handle(tp, record.offset, record.value))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        await self._commit()
        return True

    async def _wait_progress(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._options.poll_timeout):
                await self._progress.wait()
        self._progress.clear()

    async def _commit(self) -> None:
        offsets = self._tracker.committable()
        if not offsets or self._consumer is None:
            return
        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:
            # a rebalance took the partition away, or Kafka is down: try again on the next turn
            log.warning("%s: commit failed: %r", self.subscription.id, exc)
            return
        self._tracker.committed(offsets)

    async def revoked(self, partitions: list[TopicPartition]) -> None:
        await self._commit()
        for tp in partitions:
            self._tracker.forget(tp)

    async def _handle(self, tp: TopicPartition, offset: int, value: bytes | None) -> None:
        try:
            done = await self._process(tp, offset, value)
        except Exception as exc:  # noqa: BLE001 - logged with its traceback, then dead-lettered
            # a bug costs this alert, not the partition: without this the task died, the
            # record stayed undone and the subscriber's partition committed nothing more
            done = await self._processing_failed(tp, offset, value, exc)
        if done:
            self._tracker.done(tp, offset)
        self._progress.set()

    async def _process(self, tp: TopicPartition, offset: int, value: bytes | None) -> bool:
        """Deliver one record; True when it is done (and may be committed)."""
        try:
            alert = decode_alert(value or b"")
        except msgspec.DecodeError as exc:
            log.error(
                "%s: record at %s offset %d is not an alert (%s): dead-lettered as undecodable",
                self.subscription.id,
                tp,
                offset,
                exc,
            )
            self._observer.processing_error(self.subscription.id, "undecodable")
            return await self._publish(
                self._letter(tp, offset, "undecodable", None, raw=value or b"", error=str(exc))
            )
        if not self.subscription.accepts(alert):
            return True
        request = build_request(self.subscription, alert)
        if self.disabled:
            result = DeliveryResult("halted", 0, None, None, None, "subscriber disabled (HTTP 410)")
        else:
            result = await self.attempts.deliver(request, self._halt)
        if result.outcome == "gone":
            self._disable(result)
        reason = dead_letter_reason(result, self.disabled)
        if reason is None:
            return result.outcome != "halted"
        return await self._publish(self._letter(tp, offset, reason, alert, result=result))

    async def _processing_failed(
        self, tp: TopicPartition, offset: int, value: bytes | None, exc: Exception
    ) -> bool:
        """Dead-letter a record the delivery code raised on (``processing_failed``): the alert
        if it decodes (a replay can deliver it once the bug is fixed), else its bytes."""
        log.error(
            "%s: delivering the record at %s offset %d raised: dead-lettered as processing_failed",
            self.subscription.id,
            tp,
            offset,
            exc_info=exc,
        )
        self._observer.processing_error(self.subscription.id, "processing_failed")
        try:
            alert: Alert | None = decode_alert(value or b"")
        except msgspec.DecodeError:
            alert = None
        letter = self._letter(
            tp,
            offset,
            "processing_failed",
            alert,
            raw=None if alert else value or b"",
            error=f"{type(exc).__name__}: {exc}",
        )
        try:
            return await self._publish(letter)
        except Exception:  # logged; the record stays undone, so nothing is lost
            log.exception(
                "%s: the record at %s offset %d could not be dead-lettered either: it stays "
                "uncommitted (delivered again after a restart)",
                self.subscription.id,
                tp,
                offset,
            )
            return False

    def _disable(self, result: DeliveryResult) -> None:
        if self.disabled:
            return
        self.disabled = True
        self._halt.set()
        log.error(
            "subscriber %s disabled: its endpoint answered 410 Gone (%s); "
            "its pending alerts are dead-lettered, new ones wait in Kafka",
            self.subscription.id,
            result.last_error,
        )
        self._observer.disabled(self.subscription.id)
        if self._on_disabled is not None:
            self._on_disabled(self.subscription.id)

    def _letter(
        self,
        tp: TopicPartition,
        offset: int,
        reason: DeadLetterReason,
        alert: Alert | None,
        *,
        result: DeliveryResult | None = None,
        raw: bytes | None = None,
        error: str | None = None,
    ) -> DeadLetter:
        last_error = error or (result.last_error if result is not None else None)
        return DeadLetter(
            subscriber_id=self.subscription.id,
            webhook_id=webhook_id(self.subscription.id, alert.alert_id) if alert else None,
            reason=reason,
            attempts=result.attempts if result is not None else 0,
            last_status=result.last_status if result is not None else None,
            last_error=last_error
            or ("subscriber disabled (HTTP 410)" if reason == "disabled" else None),
            first_attempt_at=result.first_attempt_at if result is not None else None,
            last_attempt_at=result.last_attempt_at if result is not None else None,
            dead_lettered_at=datetime.now(UTC),
            alert=alert,
            raw=raw,
            partition=tp.partition,
            offset=offset,
        )

    async def _publish(self, letter: DeadLetter) -> bool:
        """Write ``letter``; True once Kafka acknowledged it."""
        # a halt for a shutdown stops the Kafka retries; a halt for a 410 must not
        halt = self._stopping if self.disabled else self._halt
        if not await self._dead_letters.publish(letter, halt):
            return False
        log.warning(
            "%s: alert %s dead-lettered (%s after %d attempt(s): %s)",
            self.subscription.id,
            letter.alert.alert_id if letter.alert is not None else f"at offset {letter.offset}",
            letter.reason,
            letter.attempts,
            letter.last_error,
        )
        self._observer.dead_letter(self.subscription.id)
        return True


class Dispatcher:
    """Delivers the alerts topic to every enabled subscriber. ``stop()`` is safe twice.

    ``transport``/``resolve`` are for tests (an ``httpx.MockTransport``, a fake DNS); ``rng``
    seeds the retry jitter.
    """

    def __init__(
        self,
        settings: Settings,
        subscriptions: Subscriptions,
        *,
        observer: DeliveryObserver | None = None,
        options: DeliveryOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: Resolver = resolve_host,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.subscriptions = subscriptions
        self.observer: DeliveryObserver = observer or NoopObserver()
        self.options = options or DeliveryOptions()
        self._transport = transport
        self._resolve = resolve
        self._rng = rng or random.Random()
        self._sender: WebhookSender | None = None
        self._sink: DeadLetterSink | None = None
        self.deliveries: dict[str, SubscriberDelivery] = {}
        self.disabled: set[str] = set()
        self._started = False
        self._stopped = False

    async def __aenter__(self) -> Dispatcher:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Connect the dead-letter producer and start one consumer per enabled subscriber."""
        if self._started:
            return
        self._started = True
        self._sender = WebhookSender(
            self.settings, transport=self._transport, resolve=self._resolve
        )
        self._sink = DeadLetterSink(
            self.settings,
            retry_delay=self.options.dead_letter_retry,
            stuck_retry=self.options.dead_letter_stuck_retry,
            observer=self.observer,
        )
        try:
            await self._sink.start()
            for subscription in self.subscriptions.enabled():
                await self._add(subscription)
        except BaseException:
            await self.stop()
            raise
        log.info("delivering to %d subscriber(s)", len(self.deliveries))

    async def _add(self, subscription: Subscription) -> None:
        assert self._sender is not None and self._sink is not None
        delivery = SubscriberDelivery(
            subscription,
            self.settings,
            sender=self._sender,
            dead_letters=self._sink,
            observer=self.observer,
            options=self.options,
            rng=random.Random(self._rng.random()),
            on_disabled=self.disabled.add,
        )
        self.deliveries[subscription.id] = delivery
        await delivery.start()

    async def update(self, subscriptions: Subscriptions) -> None:
        """Swap in a new subscription set: changed subscribers restart from their offsets."""
        old = {s.id: s for s in self.subscriptions.enabled()}
        new = {s.id: s for s in subscriptions.enabled()}
        self.subscriptions = subscriptions
        for sid, subscription in old.items():
            if new.get(sid) != subscription and sid in self.deliveries:
                await self.deliveries.pop(sid).stop(self.settings.shutdown_timeout)
        for sid, subscription in new.items():
            if sid not in self.deliveries:
                self.disabled.discard(sid)
                await self._add(subscription)

    async def stop(self) -> None:
        """Stop every subscriber (draining in-flight requests), then the producer and client."""
        if self._stopped:
            return
        self._stopped = True
        started = time.monotonic()
        deliveries = list(self.deliveries.values())
        await asyncio.gather(*(d.stop(self.settings.shutdown_timeout) for d in deliveries))
        if self._sink is not None:
            await self._sink.stop()
        if self._sender is not None:
            await self._sender.stop()
        log.info("delivery stopped in %.1f s", time.monotonic() - started)
