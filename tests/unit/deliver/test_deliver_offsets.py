from __future__ import annotations

import pytest

from monitor.deliver.offsets import OffsetTracker


@pytest.mark.parametrize(
    ("started", "done", "expected"),
    [
        pytest.param([], [], {}, id="nothing"),
        pytest.param([0, 1, 2], [], {}, id="none-done"),
        pytest.param([0, 1, 2], [0], {"p": 1}, id="first-done"),
        pytest.param([0, 1, 2], [1, 2], {}, id="later-done-first-pending"),
        pytest.param([0, 1, 2], [2, 1, 0], {"p": 3}, id="all-done-out-of-order"),
        pytest.param([5, 9, 12], [5, 12], {"p": 9}, id="gaps-in-offsets"),
        pytest.param([5, 9, 12], [9, 12, 5], {"p": 13}, id="gaps-all-done"),
        pytest.param([0, 1], [0, 7], {"p": 1}, id="unknown-offset-ignored"),
    ],
)
def test_committable(started: list[int], done: list[int], expected: dict[str, int]) -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    for offset in started:
        tracker.start("p", offset)
    for offset in done:
        tracker.done("p", offset)
    assert tracker.committable() == expected


def test_partitions_are_independent_and_commits_are_remembered() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    for p in ("a", "b"):
        tracker.start(p, 0)
        tracker.start(p, 1)
    tracker.done("a", 0)
    tracker.done("b", 1)
    assert tracker.committable() == {"a": 1}
    tracker.committed({"a": 1})
    assert tracker.committable() == {}
    assert tracker.in_flight() == 3 and tracker.in_flight("a") == 1  # b:1 waits behind b:0
    tracker.done("b", 0)
    assert tracker.committable() == {"b": 2}


def test_out_of_order_start_is_a_bug() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    tracker.start("p", 3)
    with pytest.raises(ValueError):
        tracker.start("p", 2)


def test_forget_drops_a_revoked_partition() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    tracker.start("p", 0)
    tracker.done("p", 0)
    tracker.forget("p")
    assert tracker.committable() == {} and tracker.in_flight() == 0
    tracker.start("p", 0)  # re-assigned: starts again from the committed offset
    tracker.done("p", 0)
    assert tracker.committable() == {"p": 1}
