from __future__ import annotations

from monitor.deliver.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_consecutive_failures() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=clock)
    assert breaker.failure() == "closed"
    assert breaker.success() == "closed"  # a success resets the count
    assert [breaker.failure() for _ in range(3)] == ["closed", "closed", "open"]
    assert breaker.acquire() == 10.0
    clock.now += 4
    assert breaker.acquire() == 6.0


def test_half_open_lets_one_probe_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now += 10
    assert breaker.state == "half_open"
    assert breaker.acquire() == 0.0  # the probe
    assert breaker.acquire() > 0  # the others wait for its verdict
    assert breaker.success() == "closed"
    assert breaker.acquire() == 0.0 and breaker.acquire() == 0.0


def test_failed_probe_opens_again_for_a_full_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=5, cooldown=10, clock=clock)
    for _ in range(5):
        breaker.failure()
    clock.now += 11
    assert breaker.acquire() == 0.0
    assert breaker.failure() == "open"
    assert breaker.acquire() == 10.0


def test_released_probe_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=1, clock=clock)
    breaker.failure()
    clock.now += 1
    assert breaker.acquire() == 0.0
    breaker.release()
    assert breaker.acquire() == 0.0
