"""Replay without a broker: its read when Kafka stops answering half-way, its bounds, its CLI.

The real reads are in ``tests/integration/test_delivery.py`` (a real broker). What a real broker
does not do on demand is go quiet between the end offsets a replay takes and the records before
them, so this stands in for the consumer in that one case, and for the whole read where what is
tested is what the replay does with the letters it read (its schedule and deadline).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition

from monitor.deliver import replay as replay_module
from monitor.deliver.cli import add_commands
from monitor.deliver.deadletter import DeadLetter
from monitor.deliver.replay import ReplayReport
from monitor.deliver.signing import Secret
from monitor.deliver.subscriptions import Subscription, Subscriptions
from monitor.deliver.webhook import webhook_id
from monitor.errors import PublishError
from monitor.settings import Settings
from tests.deliver_support import SECRET, make_alert


class QuietConsumer:
    """Says partition 0 ends at offset 3, then never returns a record: the position stays 1."""

    def __init__(self, **config: Any) -> None:
        self.stopped = False

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.partitions = partitions

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        pass

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: 3 if tp.partition == 0 else 0 for tp in partitions}

    async def getmany(self, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        return {}

    async def position(self, tp: TopicPartition) -> int:
        return 1


async def test_a_read_that_stops_short_fails_instead_of_replaying_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the topic stops delivering records before the end offsets taken at the start, the
    replay raises ``PublishError`` naming the partition and how far it got, and sends nothing.
    Before, the read gave up after 10 quiet seconds and replayed what it had, reporting success
    over letters it never saw."""
    monkeypatch.setattr(replay_module, "AIOKafkaConsumer", QuietConsumer)
    monkeypatch.setattr(replay_module, "IDLE_POLLS", 3)
    settings = dataclasses.replace(Settings.defaults(), topic_partitions=2)
    desk = Subscription(id="desk", url="https://desk.example/hooks", secrets=(Secret(SECRET),))
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    with pytest.raises(PublishError, match=r"partition\(s\) 0 at 1 of 3") as info:
        await replay_module.replay(
            settings,
            Subscriptions((desk,)),
            "desk",
            None,
            transport=httpx.MockTransport(record),
        )
    assert info.value.retriable
    assert sent == []


def _letters_on_the_topic(monkeypatch: pytest.MonkeyPatch, *letters: DeadLetter) -> None:
    """Stand in for the read of the dead-letter topic (read for real in test_delivery.py)."""

    async def read(
        settings: Settings, subscriber_id: str, since: Any, report: ReplayReport
    ) -> list[DeadLetter]:
        report.scanned = report.matched = len(letters)
        return list(letters)

    monkeypatch.setattr(replay_module, "read_dead_letters", read)


def _letter(n: int) -> DeadLetter:
    alert = make_alert(n)
    return DeadLetter(
        subscriber_id="desk",
        webhook_id=webhook_id("desk", alert.alert_id),
        reason="exhausted",
        attempts=8,
        dead_lettered_at=datetime(2026, 3, 2, tzinfo=UTC),
        alert=alert,
        partition=0,
        offset=n,
    )


DESK = Subscription(id="desk", url="https://desk.example/hooks", secrets=(Secret(SECRET),))


async def test_a_replay_to_a_desk_still_down_ends_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the replay's default schedule (delays of up to 30 s) and a desk that answers 503,
    a replay with a 0.5 s deadline returns within seconds and reports every letter failed, with
    the last error; the letters stay on the topic (nothing is committed). Before, a replay used
    the worker's day-long schedule with no end and blocked for about a day."""
    _letters_on_the_topic(monkeypatch, _letter(1), _letter(2))
    started = time.monotonic()

    report = await replay_module.replay(
        dataclasses.replace(Settings.defaults(), topic_partitions=1),
        Subscriptions((DESK,)),
        "desk",
        None,
        deadline=0.5,
        transport=httpx.MockTransport(lambda request: httpx.Response(503)),
    )

    assert time.monotonic() - started < 5
    assert not report.ok and report.delivered == []
    assert sorted(report.failed) == sorted(
        (
            webhook_id("desk", make_alert(n).alert_id),
            "not delivered within the replay's 0.5 s (last: desk: HTTP 503)",
        )
        for n in (1, 2)
    )


async def test_a_replay_gives_up_a_letter_after_its_own_schedule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``schedule`` bounds each letter's attempts: two delays, three attempts, then the letter
    is reported failed with the desk's last answer (it stays on the topic for the next replay)."""
    _letters_on_the_topic(monkeypatch, _letter(1))
    sent: list[httpx.Request] = []

    def down(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(503)

    report = await replay_module.replay(
        dataclasses.replace(Settings.defaults(), topic_partitions=1),
        Subscriptions((DESK,)),
        "desk",
        None,
        schedule=(0.01, 0.01),
        transport=httpx.MockTransport(down),
    )

    assert len(sent) == 3
    assert report.failed == [(webhook_id("desk", make_alert(1).alert_id), "desk: HTTP 503")]
    assert "1 failed" in report.summary()


@pytest.mark.parametrize(
    ("flags", "schedule", "deadline"),
    [
        pytest.param([], replay_module.REPLAY_RETRY_SCHEDULE, 600.0, id="defaults"),
        pytest.param(
            ["--retry-schedule", "0.5,2", "--deadline", "90"], (0.5, 2.0), 90.0, id="given"
        ),
    ],
)
def test_the_replay_command_takes_a_schedule_and_a_deadline(
    flags: list[str], schedule: tuple[float, ...], deadline: float
) -> None:
    """``monitor webhooks replay`` has bounded defaults (4 attempts within ~36 s, 10 minutes in
    all) and flags to change them."""
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())

    args = parser.parse_args(["webhooks", "replay", "--subscriber", "desk", *flags])

    assert (args.retry_schedule, args.deadline) == (schedule, deadline)
    assert sum(schedule) < deadline


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param(["--retry-schedule", "1,soon"], id="not-a-number"),
        pytest.param(["--retry-schedule", "1,0"], id="zero-delay"),
        pytest.param(["--deadline", "-1"], id="negative-deadline"),
    ],
)
def test_the_replay_command_refuses_a_bad_schedule_or_deadline(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad flag is an argparse error (exit 2) naming the value, before anything is read."""
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())

    with pytest.raises(SystemExit) as info:
        parser.parse_args(["webhooks", "replay", "--subscriber", "desk", *flags])

    assert info.value.code == 2
    assert flags[-1] in capsys.readouterr().err
