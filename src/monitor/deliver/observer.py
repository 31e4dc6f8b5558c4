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


class DeliveryObserver(Protocol):
    """Hooks called by the dispatcher and the replay; each must be cheap and never raise."""

    def attempt(self, subscriber: str, outcome: AttemptOutcome) -> None: ...

    def delivered(self, subscriber: str, seconds: float, alert: Alert) -> None:
        """``seconds`` from the alert's ``created_at`` to the receiver's 2xx."""

    def dead_letter(self, subscriber: str) -> None: ...

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

    def circuit(self, subscriber: str, state: CircuitState) -> None:
        pass

    def disabled(self, subscriber: str) -> None:
        pass
