"""Liveness and readiness of the worker, as the web views ``/healthz`` and ``/readyz`` report them.

``/healthz`` answers 200 as long as the process can answer at all (a container orchestrator
restarts it otherwise). ``/readyz`` answers 200 only when the worker does useful work: it holds
partitions, has a rule set, and its producer is connected; otherwise 503 with the reasons.

A worker with no partitions (more workers than partitions, or in the middle of a rebalance) is
alive but not ready: take it out of a load balancer, do not restart it.
"""

from __future__ import annotations

import threading
from typing import Any

HealthBody = dict[str, Any]


class Readiness:
    """What the worker has reached so far; every setter is cheap and thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partitions = 0
        self._rules_loaded = False
        self._producer_connected = False
        self._stopping = False

    def partitions_assigned(self, count: int) -> None:
        """The consumer holds ``count`` partitions now (0 after a revoke)."""
        with self._lock:
            self._partitions = max(0, count)

    def rules_loaded(self, loaded: bool) -> None:
        with self._lock:
            self._rules_loaded = loaded

    def producer_connected(self, connected: bool) -> None:
        with self._lock:
            self._producer_connected = connected

    def stopping(self) -> None:
        """The worker is shutting down: not ready any more, whatever else holds."""
        with self._lock:
            self._stopping = True

    def ready(self) -> tuple[bool, list[str]]:
        """Whether the worker is ready, and if not, every reason why (stable order)."""
        with self._lock:
            reasons = []
            if self._stopping:
                reasons.append("shutting down")
            if self._partitions == 0:
                reasons.append("consumer has no partitions assigned")
            if not self._rules_loaded:
                reasons.append("rules not loaded")
            if not self._producer_connected:
                reasons.append("producer not connected")
            return not reasons, reasons

    def __repr__(self) -> str:
        ready, reasons = self.ready()
        return f"Readiness(ready={ready}, reasons={reasons!r})"


def healthz() -> tuple[int, HealthBody]:
    """``/healthz``: 200 while the process answers."""
    return 200, {"status": "ok"}


def readyz(readiness: Readiness) -> tuple[int, HealthBody]:
    """``/readyz``: 200 when ready, else 503; the body lists the reasons either way."""
    ready, reasons = readiness.ready()
    return (200 if ready else 503), {"ready": ready, "reasons": reasons}
