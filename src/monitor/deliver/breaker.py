"""A per-subscriber circuit breaker: stop hammering an endpoint that keeps failing.

closed -> (``threshold`` consecutive failures) -> open -> (``cooldown`` seconds) -> half_open:
one probe goes through; its success closes the circuit, its failure opens it again. Pure: the
clock is injected, so the transitions are tested without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

CircuitState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Decides whether an attempt may go out now; callers report each attempt's result."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or cooldown <= 0:
            raise ValueError("threshold must be >= 1 and cooldown > 0")
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._state: CircuitState = "closed"
        self._probing = False

    @property
    def state(self) -> CircuitState:
        if self._state == "open" and self._clock() - self._opened_at >= self.cooldown:
            self._state = "half_open"
        return self._state

    def acquire(self) -> float:
        """0 when an attempt may go out now (then it must be reported), else seconds to wait.

        While half-open only one probe is out; the others wait for its verdict (they get a short
        wait back and ask again).
        """
        state = self.state
        if state == "closed":
            return 0.0
        if state == "open":
            return max(self.cooldown - (self._clock() - self._opened_at), 0.001)
        if self._probing:
            return min(self.cooldown, 1.0)
        self._probing = True
        return 0.0

    def success(self) -> CircuitState:
        """The endpoint answered (2xx, or a definite 4xx): close the circuit."""
        self._failures = 0
        self._probing = False
        self._state = "closed"
        return self._state

    def failure(self) -> CircuitState:
        """A retriable failure (5xx, 429, timeout, connection error)."""
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            self._state = "open"
            self._opened_at = self._clock()
        self._probing = False
        return self._state

    def release(self) -> None:
        """An acquired attempt was abandoned without a verdict (shutdown)."""
        self._probing = False
