"""When to try a webhook again: a fixed schedule with full jitter, never sooner than Retry-After.

Pure: the random source is injected, so the schedule is tested with a seeded ``random.Random``.
With the Standard Webhooks-like default (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) a delivery is
attempted 8 times over about a day before it is dead-lettered.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

RETRY_AFTER_CAP = 3600.0
"""A receiver's Retry-After is honoured up to this many seconds (a bogus year-long value is not)."""


@dataclass(frozen=True)
class RetryPolicy:
    """``schedule[n]`` is the base delay before attempt ``n + 2`` (the first is immediate)."""

    schedule: tuple[float, ...]
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if not self.schedule or any(d <= 0 for d in self.schedule):
            raise ValueError("the retry schedule needs at least one positive delay")

    @classmethod
    def of(cls, schedule: Sequence[float], *, seed: int | None = None) -> RetryPolicy:
        return cls(tuple(schedule), random.Random(seed))

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    def delay(self, attempts: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait after ``attempts`` failed attempts; ``None`` when they are exhausted.

        Full jitter (a uniform draw in ``[0, base]``) spreads the retries of many alerts that
        failed together; a Retry-After from the receiver is a floor, capped at RETRY_AFTER_CAP.
        """
        if attempts < 1:
            raise ValueError("delay() is asked after at least one attempt")
        if attempts > len(self.schedule):
            return None
        jittered = self.rng.uniform(0.0, self.schedule[attempts - 1])
        if retry_after is None:
            return jittered
        return max(jittered, min(max(retry_after, 0.0), RETRY_AFTER_CAP))
