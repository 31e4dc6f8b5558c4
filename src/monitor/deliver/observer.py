"""What the delivery tells the outside world: a small Protocol the metrics module implements.

Label values are small fixed sets (outcomes, states) plus the subscriber id, which comes from the
subscriptions file; never alert ids or URLs.
"""

from __future__ import annotations

from typing import Literal, Protocol

from monitor.alert import Alert
from monitor.deliver.breaker import CircuitState

AttemptOutcome = Literal["delivered", "retriable", "failed", "gone", "refused"]
"""One HTTP attempt: 2xx; 5xx/429/network (will retry); other 4xx/3xx; 410; blocked by a guard."""

ProcessingError = Literal["undecodable", "processing_failed", "loop_failed"]
"""A record on the alerts topic that is not an alert; an alert the delivery code raised on; a
turn of a subscriber's fetch loop that raised (the loop goes on)."""


class DeliveryObserver(Protocol):
    """Hooks called by the dispatcher and the replay; each must be cheap and never raise."""

    def attempt(self, subscriber: str, outcome: AttemptOutcome) -> None: ...

    def delivered(self, subscriber: str, seconds: float, alert: Alert) -> None:
        """``seconds`` from the alert's ``created_at`` to the receiver's 2xx."""

    def dead_letter(self, subscriber: str) -> None: ...

    def processing_error(self, subscriber: str, reason: ProcessingError) -> None:
        """A record the delivery could not handle as an alert (it is then dead-lettered), or a
        turn of the fetch loop that raised (``loop_failed``: nothing fetched is lost)."""

    def dead_letter_stuck(self, subscriber: str, stuck: bool) -> None:
        """One dead letter Kafka refuses for good (``stuck``), or no longer (``not stuck``)."""

    def circuit(self, subscriber: str, state: CircuitState) -> None: ...

    def disabled(self, subscriber: str) -> None: ...


class NoopObserver:
    """The default observer: does nothing."""

    def attempt(self, subscriber: str, outcome: AttemptOutcome) -> None:
        pass

    def delivered(self, subscriber: str, seconds: float, alert: Alert) -> None:
        pass

    def dead_letter(self, subscriber: str) -> None:
        pass

    def processing_error(self, subscriber: str, reason: ProcessingError) -> None:
        pass

    def dead_letter_stuck(self, subscriber: str, stuck: bool) -> None:
        pass

    def circuit(self, subscriber: str, state: CircuitState) -> None:
        pass

    def disabled(self, subscriber: str) -> None:
        pass
