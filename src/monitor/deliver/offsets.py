"""Which offsets may be committed when records of a partition finish out of order.

A record is *started* when fetched and *done* when delivered, filtered out or dead-lettered. The
committable offset of a partition is the lowest started offset not yet done (or one past the
highest when all are done): committing it never skips a record that is still in flight, so a
crash at any moment only re-delivers, never loses. Pure and generic over the partition key.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)


class OffsetTracker(Generic[P]):
    """Per-partition bookkeeping of started/done offsets and of what was last committed."""

    def __init__(self) -> None:
        self._pending: dict[P, dict[int, bool]] = {}  # offset -> done, in start (= offset) order
        self._next: dict[P, int] = {}  # one past the highest done prefix
        self._committed: dict[P, int] = {}

    def start(self, partition: P, offset: int) -> None:
        pending = self._pending.setdefault(partition, {})
        if pending and offset <= next(reversed(pending)):
            raise ValueError(f"offset {offset} started out of order on {partition!r}")
        if not pending and offset < self._next.get(partition, -1):
            raise ValueError(f"offset {offset} already done on {partition!r}")
        pending[offset] = False

    def done(self, partition: P, offset: int) -> None:
        """Mark ``offset`` done; unknown offsets (a revoked partition) are ignored."""
        pending = self._pending.get(partition)
        if pending is None or offset not in pending:
            return
        pending[offset] = True
        # drop the done prefix; the committable position is the first record still pending
        # (not merely one past the last done: offsets have gaps, e.g. transaction markers)
        dropped = False
        for first in list(pending):
            if not pending[first]:
                break
            del pending[first]
            self._next[partition] = first + 1
            dropped = True
        if dropped and pending:
            self._next[partition] = next(iter(pending))

    def in_flight(self, partition: P | None = None) -> int:
        """Records started and not yet committable (done ones behind a pending one count)."""
        if partition is not None:
            return len(self._pending.get(partition, {}))
        return sum(len(p) for p in self._pending.values())

    def committable(self) -> dict[P, int]:
        """Offsets to commit now: per partition, changed since the last ``committed()``."""
        result: dict[P, int] = {}
        for partition, position in self._next.items():
            if position > self._committed.get(partition, -1):
                result[partition] = position
        return result

    def committed(self, offsets: dict[P, int]) -> None:
        for partition, offset in offsets.items():
            if offset > self._committed.get(partition, -1):
                self._committed[partition] = offset

    def forget(self, partition: P) -> None:
        """The partition was revoked: its in-flight records are someone else's now."""
        self._pending.pop(partition, None)
        self._next.pop(partition, None)
        self._committed.pop(partition, None)
