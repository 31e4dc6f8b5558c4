"""The exceptions of monitor, one small hierarchy.

```
MonitorError
 |- ConfigError        startup, fatal, names the setting
 |- RuleError          one problem in one rule file, with path:line
 |   `- RuleSetError   all the problems of a rule set, collected, raised once
 |- SubscriptionError  one problem in the subscriptions file, with path:line
 |   `- SubscriptionsError  all the problems of a subscriptions file, collected, raised once
 |- SignatureError     a webhook's Standard Webhooks signature does not verify (receiver side)
 |- InvalidArticle     per message: counted, dead-lettered with its reason, the stream goes on
 `- DeliveryError      .retriable
     |- WebhookError   .status, .endpoint
     `- PublishError   writing to Kafka failed
```

Library errors (httpx, aiokafka, yaml) are translated where the library is called; other modules
only see these.
"""

from __future__ import annotations

from collections.abc import Sequence


class MonitorError(Exception):
    """Base class of every error monitor raises on purpose."""


class ConfigError(MonitorError):
    """A setting is missing or invalid. Raised at startup; the process exits non-zero."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


class RuleError(MonitorError):
    """One problem in one rule file, located by path and line (1-based; 0 when unknown)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class RuleSetError(MonitorError):
    """Every problem found while loading a rule set. Loading collects them all, then fails once."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(str(e) for e in self.errors)
        super().__init__(f"{len(self.errors)} error(s) in rule set:\n{lines}")


class SubscriptionError(MonitorError):
    """One problem in the subscriptions file, located by path and line (1-based; 0 when unknown)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class SubscriptionsError(MonitorError):
    """Every problem of a subscriptions file. Loading collects them all, then fails once."""

    def __init__(self, errors: Sequence[SubscriptionError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(str(e) for e in self.errors)
        super().__init__(f"{len(self.errors)} error(s) in subscriptions:\n{lines}")


class SignatureError(MonitorError):
    """A webhook request whose ``webhook-*`` headers do not verify against the secrets."""


class InvalidArticle(MonitorError):
    """A message on the articles topic that is not a valid article.

    ``reason`` is one of a small fixed set (it labels a metric and the dead-letter header);
    ``detail`` says what exactly was wrong.
    """

    REASONS = ("too_large", "not_utf8", "not_json", "invalid_schema", "empty")

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown InvalidArticle reason {reason!r}")
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


PROCESSING_FAILED = "processing_failed"
"""Dead-letter reason of a valid article the pipeline raised on: a bug, not bad input. The article
is kept on the dead-letter topic, to be sent again once the bug is fixed."""


class DeliveryError(MonitorError):
    """Delivering an alert failed. ``retriable`` says whether trying again may help."""

    def __init__(self, message: str, *, retriable: bool) -> None:
        self.retriable = retriable
        super().__init__(message)


class WebhookError(DeliveryError):
    """A webhook endpoint refused or failed a delivery (``status`` is None for network errors)."""

    def __init__(self, endpoint: str, status: int | None, message: str, *, retriable: bool) -> None:
        self.endpoint = endpoint
        self.status = status
        super().__init__(f"{endpoint}: {message}", retriable=retriable)


class PublishError(DeliveryError):
    """Writing to a Kafka topic failed."""
