"""How the dead-letter sink answers each kind of Kafka error, and the letters without an alert.

What a real broker refuses on demand (a letter too large for its topic) is tested against one in
``tests/integration/test_delivery.py``. What it does not do without ACLs (refuse a topic as not
authorized) or on cue (time out once, then work) is played here by a stand-in producer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from aiokafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
)
from prometheus_client import CollectorRegistry

from monitor.deliver import dispatcher as dispatcher_module
from monitor.deliver.deadletter import DeadLetter, decode_dead_letter, encode_dead_letter
from monitor.deliver.dispatcher import DeadLetterSink, transient
from monitor.metrics import Metrics
from monitor.settings import Settings
from tests.deliver_support import make_alert

STUCK = "monitor_webhook_dead_letters_stuck"


class ScriptedProducer:
    """Answers each ``send_and_wait`` with the next error of ``SCRIPT`` (None: acknowledged)."""

    script: Iterator[KafkaError | None] = iter(())
    sent: list[DeadLetter] = []  # noqa: RUF012 - reset by each test through the fixture

    def __init__(self, **config: Any) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send_and_wait(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        type(self).sent.append(decode_dead_letter(value))
        error = next(type(self).script)
        if error is not None:
            raise error


@pytest.fixture
def producer(monkeypatch: pytest.MonkeyPatch) -> type[ScriptedProducer]:
    monkeypatch.setattr(dispatcher_module, "AIOKafkaProducer", ScriptedProducer)
    ScriptedProducer.sent = []
    return ScriptedProducer


def letter(**changes: Any) -> DeadLetter:
    alert = make_alert(1)
    base = DeadLetter(
        subscriber_id="desk",
        webhook_id="msg_1",
        reason="exhausted",
        attempts=8,
        last_error="HTTP 503",
        dead_lettered_at=datetime(2026, 3, 1, tzinfo=UTC),
        alert=alert,
        partition=1,
        offset=42,
    )
    return msgspec.structs.replace(base, **changes)


def sink(registry: CollectorRegistry) -> DeadLetterSink:
    return DeadLetterSink(
        Settings.defaults(), retry_delay=0.01, stuck_retry=0.02, observer=Metrics(registry)
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(KafkaTimeoutError(), True, id="timeout-broker-away"),
        pytest.param(NotLeaderForPartitionError(), True, id="retriable-flag"),
        pytest.param(TopicAuthorizationFailedError(), False, id="not-authorized"),
        pytest.param(MessageSizeTooLargeError(), False, id="too-large"),
    ],
)
def test_transient_errors_are_those_that_go_away_by_themselves(
    error: KafkaError, expected: bool
) -> None:
    """aiokafka's ``retriable`` flag, plus the timeout a broker that is down ends in (which
    aiokafka does not flag), are transient; authorization and size errors are not."""
    assert transient(error) is expected


async def test_a_transient_error_is_retried_until_acknowledged(
    producer: type[ScriptedProducer],
) -> None:
    """A timeout is tried again after ``retry_delay`` and the same letter is then written;
    nothing is reported stuck."""
    producer.script = iter([KafkaTimeoutError(), None])
    registry = CollectorRegistry()

    assert await sink(registry).publish(letter(), asyncio.Event())

    assert producer.sent == [letter(), letter()]
    assert registry.get_sample_value(STUCK, {"subscriber": "desk"}) is None


async def test_a_letter_refused_as_too_large_is_written_at_once_without_its_body(
    producer: type[ScriptedProducer],
) -> None:
    """The second send is the same letter without alert and raw bytes, marked
    ``body_dropped``, still pointing at the alert's partition and offset."""
    producer.script = iter([MessageSizeTooLargeError(), None])

    assert await sink(CollectorRegistry()).publish(letter(raw=b"x"), asyncio.Event())

    full, stub = producer.sent
    assert full.alert is not None and not full.body_dropped
    assert stub.body_dropped and stub.alert is None and stub.raw is None
    assert (stub.partition, stub.offset, stub.webhook_id) == (1, 42, "msg_1")
    assert stub.last_error == "HTTP 503; body dropped: MessageSizeTooLargeError"


async def test_a_letter_kafka_refuses_for_good_is_stuck_loudly_until_it_is_written(
    producer: type[ScriptedProducer], caplog: pytest.LogCaptureFixture
) -> None:
    """Not authorized: one error log naming the alert's position, the stuck gauge at 1 while
    it lasts, tries every ``stuck_retry`` s, and back to 0 once an operator's fix lets it
    through. Before, it was retried every second forever with a warning, and no metric."""
    gate = asyncio.Event()
    registry = CollectorRegistry()

    def script() -> Iterator[KafkaError | None]:
        yield TopicAuthorizationFailedError()
        yield TopicAuthorizationFailedError()
        gate.set()  # the third try: the test looks at the gauge while it is stuck
        yield TopicAuthorizationFailedError()
        yield None

    producer.script = script()
    publishing = asyncio.create_task(sink(registry).publish(letter(), asyncio.Event()))
    await asyncio.wait_for(gate.wait(), 5)
    assert registry.get_sample_value(STUCK, {"subscriber": "desk"}) == 1
    assert await asyncio.wait_for(publishing, 5)

    assert len(producer.sent) == 4
    assert registry.get_sample_value(STUCK, {"subscriber": "desk"}) == 0
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "partition 1 offset 42 stays uncommitted" in errors[0].message


async def test_a_stuck_letter_gives_up_on_halt_and_is_not_done(
    producer: type[ScriptedProducer],
) -> None:
    """A shutdown while Kafka refuses the letter returns False (the record stays undone, so it
    is delivered again after the restart) and the stuck gauge goes back to 0."""
    retried = asyncio.Event()

    def script() -> Iterator[KafkaError | None]:
        yield TopicAuthorizationFailedError()
        retried.set()
        while True:
            yield TopicAuthorizationFailedError()

    producer.script = script()
    registry = CollectorRegistry()
    halt = asyncio.Event()
    publishing = asyncio.create_task(sink(registry).publish(letter(), halt))
    await asyncio.wait_for(retried.wait(), 5)
    assert registry.get_sample_value(STUCK, {"subscriber": "desk"}) == 1
    halt.set()

    assert await asyncio.wait_for(publishing, 5) is False
    assert registry.get_sample_value(STUCK, {"subscriber": "desk"}) == 0


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(letter(), id="with-alert"),
        pytest.param(
            letter(webhook_id=None, reason="undecodable", alert=None, raw=b"\xff\x00"),
            id="undecodable-bytes",
        ),
        pytest.param(letter().without_body("body dropped"), id="body-dropped"),
    ],
)
def test_every_kind_of_letter_round_trips(stored: DeadLetter) -> None:
    """What the sink writes is what replay reads back, raw bytes included."""
    assert decode_dead_letter(encode_dead_letter(stored)) == stored


def test_a_letter_written_before_these_fields_still_decodes() -> None:
    """Letters already on the topic (no raw, partition, offset, body_dropped) stay readable."""
    old = encode_dead_letter(letter()).replace(b',"partition":1,"offset":42', b"")
    old = old.replace(b',"raw":null', b"").replace(b',"body_dropped":false', b"")
    assert b"partition" not in old and b"body_dropped" not in old

    decoded = decode_dead_letter(old)

    assert decoded.alert == make_alert(1)
    assert (decoded.partition, decoded.offset, decoded.body_dropped) == (None, None, False)
