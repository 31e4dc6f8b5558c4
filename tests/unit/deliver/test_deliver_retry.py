from __future__ import annotations

import random

import pytest

from monitor.deliver.retry import RETRY_AFTER_CAP, RetryPolicy
from monitor.settings import DEFAULT_RETRY_SCHEDULE


def test_full_jitter_stays_within_each_base_delay() -> None:
    policy = RetryPolicy(DEFAULT_RETRY_SCHEDULE, random.Random(7))
    for _ in range(200):
        for attempt, base in enumerate(DEFAULT_RETRY_SCHEDULE, start=1):
            delay = policy.delay(attempt)
            assert delay is not None and 0.0 <= delay <= base


def test_same_seed_same_schedule() -> None:
    a = RetryPolicy.of((1.0, 2.0, 4.0), seed=3)
    b = RetryPolicy.of((1.0, 2.0, 4.0), seed=3)
    assert [a.delay(n) for n in (1, 2, 3)] == [b.delay(n) for n in (1, 2, 3)]


def test_exhausted_after_the_schedule() -> None:
    policy = RetryPolicy.of((1.0, 2.0))
    assert policy.max_attempts == 3
    assert policy.delay(2) is not None
    assert policy.delay(3) is None


class _Fixed(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b / 2


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param(None, 5.0, id="no-retry-after"),
        pytest.param(1.0, 5.0, id="jitter-larger"),
        pytest.param(30.0, 30.0, id="retry-after-larger"),
        pytest.param(10**9, RETRY_AFTER_CAP, id="capped"),
        pytest.param(-5.0, 5.0, id="negative-ignored"),
    ],
)
def test_retry_after_is_a_floor(retry_after: float | None, expected: float) -> None:
    policy = RetryPolicy((10.0,), _Fixed())
    assert policy.delay(1, retry_after) == expected


def test_schedule_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(())
    with pytest.raises(ValueError):
        RetryPolicy((1.0, 0.0))
