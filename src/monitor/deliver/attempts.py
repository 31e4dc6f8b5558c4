"""One alert to one subscriber, attempt after attempt, until it is delivered or given up.

Shared by the dispatcher and the replay. The circuit breaker is asked before every attempt (an open
circuit means waiting for the probe, not failing the alert), a semaphore bounds the subscriber's
concurrent requests, and the retry policy spaces the attempts. Waiting is interrupted by ``halt``:
the alert then ends ``halted`` and is not done (it will be delivered again after a restart).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from monitor.deliver.breaker import CircuitBreaker
from monitor.deliver.observer import AttemptOutcome, DeliveryObserver
from monitor.deliver.retry import RetryPolicy
from monitor.deliver.webhook import AttemptResult, PreparedWebhook, WebhookSender

DeliveryOutcome = Literal["delivered", "dead", "gone", "halted"]


@dataclass(frozen=True)
class DeliveryResult:
    """The end of one alert's delivery; ``dead``/``gone`` are dead-lettered by the caller."""

    outcome: DeliveryOutcome
    attempts: int
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None = None
    last_error: str | None = None
    last_outcome: AttemptOutcome | None = None


async def sleep_or_halt(halt: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``; True when ``halt`` was set first (or already)."""
    if halt.is_set():
        return True
    try:
        async with asyncio.timeout(seconds):
            await halt.wait()
    except TimeoutError:
        return False
    return True


@dataclass
class Attempts:
    """The retrying delivery of one subscriber: its breaker, request slots and observer."""

    sender: WebhookSender
    policy: RetryPolicy
    breaker: CircuitBreaker
    slots: asyncio.Semaphore
    observer: DeliveryObserver
    clock: Callable[[], float] = time.time

    async def _attempt(self, request: PreparedWebhook, halt: asyncio.Event) -> AttemptResult | None:
        subscriber = request.subscriber.id
        while (wait := self.breaker.acquire()) > 0:
            if await sleep_or_halt(halt, wait):
                return None
        try:
            async with self.slots:
                result = await self.sender.send(request)
        except BaseException:
            self.breaker.release()
            raise
        self.observer.attempt(subscriber, result.outcome)
        before = self.breaker.state
        if result.outcome == "retriable":
            after = self.breaker.failure()
        elif result.outcome == "refused":
            self.breaker.release()  # the endpoint was not even called
            after = self.breaker.state
        else:
            after = self.breaker.success()  # it answered: the endpoint is alive
        if after != before:
            self.observer.circuit(subscriber, after)
        return result

    async def deliver(self, request: PreparedWebhook, halt: asyncio.Event) -> DeliveryResult:
        """Attempt until delivered, given up (``dead``), answered 410 (``gone``) or halted."""
        attempts = 0
        first: datetime | None = None
        last: datetime | None = None
        result: AttemptResult | None = None
        while True:
            if halt.is_set():
                return _result("halted", attempts, first, last, result)
            result_now = await self._attempt(request, halt)
            if result_now is None:
                return _result("halted", attempts, first, last, result)
            result = result_now
            attempts += 1
            last = datetime.fromtimestamp(self.clock(), UTC)
            first = first or last
            if result.outcome == "delivered":
                seconds = max(self.clock() - request.alert.created_at.timestamp(), 0.0)
                self.observer.delivered(request.subscriber.id, seconds, request.alert)
                return _result("delivered", attempts, first, last, result)
            if result.outcome == "gone":
                return _result("gone", attempts, first, last, result)
            if not result.retriable:
                return _result("dead", attempts, first, last, result)
            delay = self.policy.delay(attempts, result.retry_after)
            if delay is None:
                return _result("dead", attempts, first, last, result)
            if await sleep_or_halt(halt, delay):
                return _result("halted", attempts, first, last, result)


def _result(
    outcome: DeliveryOutcome,
    attempts: int,
    first: datetime | None,
    last: datetime | None,
    result: AttemptResult | None,
) -> DeliveryResult:
    error = result.error if result is not None else None
    return DeliveryResult(
        outcome,
        attempts,
        first,
        last,
        result.status if result is not None else None,
        str(error) if error is not None else None,
        result.outcome if result is not None else None,
    )
