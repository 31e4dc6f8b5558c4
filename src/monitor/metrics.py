"""Prometheus metrics: what an on-call engineer alerts on, at every arrow of the pipeline.

``Metrics`` owns its collectors in a registry it is given (the worker builds its own
``CollectorRegistry``; tests build a fresh one each), so nothing here touches the global registry.
Names are ``monitor_<noun>_<unit>``; counters are declared without ``_total`` (the client adds it).
Label values come from small fixed sets only: rule ids, subscriber ids, outcomes, reasons,
severities, statuses, topics and partitions, never article ids or URLs. A value outside a fixed
set is recorded as ``other`` rather than growing the series count or failing the stream.

``Metrics`` is also the delivery observer (``monitor.deliver.observer.DeliveryObserver``):
``attempt``, ``delivered``, ``dead_letter``, ``processing_error``, ``dead_letter_stuck``,
``circuit`` and ``disabled``.

Faust's own sensor (rebalances, commit latency, producer latency) is installed on the same
registry by ``install_faust_sensors``; its names start with ``faust_`` and are in milliseconds.

A scrape costs ~10 us per sample line, and one family has a series per rule (thousands of rules
are loaded): the worker leaves out the ``_created`` line of every counter and histogram
(``configure_exposition``), and the per-rule match counts are a plain dict collected as one family
(``RuleMatches``), not a labelled ``Counter`` with a lock and a sample object per child.
"""

from __future__ import annotations

import enum
import platform
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor import __version__
from monitor.alert import SEVERITIES, Alert
from monitor.errors import PROCESSING_FAILED, InvalidArticle

OTHER: Final = "other"
"""The label value recorded for anything outside a fixed set."""

DEAD_LETTER_REASONS: Final[tuple[str, ...]] = (*InvalidArticle.REASONS, PROCESSING_FAILED)
ALERT_STATUSES: Final[tuple[str, ...]] = ("new", "update")
WEBHOOK_OUTCOMES: Final[tuple[str, ...]] = (
    # monitor.deliver.observer.AttemptOutcome
    "delivered",  # 2xx
    "retriable",  # 5xx, 429, network error, timeout: will be tried again
    "failed",  # other 4xx/3xx: not retried
    "gone",  # 410: the subscriber is disabled
    "refused",  # blocked before sending by the SSRF guard (an open circuit waits instead)
)
WEBHOOK_FAILURE_OUTCOMES: Final[tuple[str, ...]] = ("retriable", "failed", "gone", "refused")
"""The outcomes that count as failures in the failure-rate alert (deploy/prometheus/alerts.yml)."""
RULE_RELOAD_OUTCOMES: Final[tuple[str, ...]] = ("ok", "invalid")
WEBHOOK_PROCESSING_ERRORS: Final[tuple[str, ...]] = (
    # monitor.deliver.observer.ProcessingError
    "undecodable",  # a record on the alerts topic that is not an alert
    "processing_failed",  # an alert the delivery code raised on: a bug, not the desk
    "loop_failed",  # a turn of a subscriber's fetch loop raised: a bug; the loop goes on
)

CIRCUIT_CLOSED: Final = 0
CIRCUIT_HALF_OPEN: Final = 1
CIRCUIT_OPEN: Final = 2
_CIRCUIT_STATES: Final[dict[str, int]] = {
    "closed": CIRCUIT_CLOSED,
    "half_open": CIRCUIT_HALF_OPEN,
    "half-open": CIRCUIT_HALF_OPEN,
    "halfopen": CIRCUIT_HALF_OPEN,
    "open": CIRCUIT_OPEN,
}

# Consume -> alert published: milliseconds when healthy, seconds when Kafka is slow.
PROCESSING_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Published -> delivered: includes producer delay and webhook retries (minutes to hours).
END_TO_END_BUCKETS: Final = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 7200, 21600)
# One webhook delivery, including its retries.
DELIVERY_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)

Partition = tuple[str, int]
"""``(topic, partition)``; faust's ``TP`` named tuple is one."""


def _fixed(value: str, allowed: Iterable[str]) -> str:
    return value if value in allowed else OTHER


def _circuit_value(state: object) -> int:
    """Map a breaker state (name, enum or number) to 0 closed, 1 half-open, 2 open."""
    if isinstance(state, enum.Enum):
        state = state.value if isinstance(state.value, int | str) else state.name
    if isinstance(state, bool):
        raise ValueError(f"unknown circuit state {state!r}")
    if isinstance(state, int):
        if state in (CIRCUIT_CLOSED, CIRCUIT_HALF_OPEN, CIRCUIT_OPEN):
            return state
    elif isinstance(state, str) and state.lower() in _CIRCUIT_STATES:
        return _CIRCUIT_STATES[state.lower()]
    raise ValueError(f"unknown circuit state {state!r}")


def configure_exposition() -> None:
    """Process-wide: counters and histograms get no ``_created`` series (the worker calls it).

    In the text format Prometheus scrapes, ``x_created{...}`` is one more series per labelled
    counter, holding the process start time: nothing here alerts or graphs on it, and it doubled
    the lines of a scrape (and the series Prometheus stores) for every per-rule counter.
    """
    disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the client


class RuleMatches(Collector):
    """``monitor_rule_matches_total{rule}``: a count per rule id, collected as one family.

    Only the event loop increments it and the ``/metrics`` page (on the same loop) reads it, so a
    dict needs no lock. Loaded rules start at 0 (``increase()`` sees their first match); a rule
    that is no longer loaded keeps its count, as a labelled ``Counter`` child would.
    """

    NAME: Final = "monitor_rule_matches"

    def __init__(self, registry: CollectorRegistry) -> None:
        self._counts: dict[str, int] = {}
        registry.register(self)

    def loaded(self, rule_ids: Iterable[str]) -> None:
        for rule_id in rule_ids:
            self._counts.setdefault(rule_id, 0)

    def inc(self, rule_id: str) -> None:
        self._counts[rule_id] = self._counts.get(rule_id, 0) + 1

    def describe(self) -> Iterable[Metric]:
        return [CounterMetricFamily(self.NAME, "Rule matches, by rule id.", labels=["rule"])]

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.NAME, "Rule matches, by rule id.", labels=["rule"])
        for rule_id, count in self._counts.items():
            family.add_metric([rule_id], count)
        yield family


def consumer_lag(
    highwaters: Mapping[Partition, int | None],
    committed: Mapping[Partition, int | None],
    *,
    low_watermarks: Mapping[Partition, int] | None = None,
) -> dict[Partition, int]:
    """Messages not yet processed, per assigned partition.

    ``highwaters`` are end offsets (the offset the next produced message will get) of the
    partitions this worker is assigned; ``committed`` are committed offsets or positions (the
    offset of the next message to process, Kafka's convention). A partition never committed
    counts from its low watermark (0 unless given). Lag is never negative: a highwater fetched
    before the commit can trail it. A partition whose highwater is not known yet (none of it was
    fetched since it was assigned) has no lag to tell and is left out.
    """
    lags: dict[Partition, int] = {}
    for tp, high in highwaters.items():
        if high is None:
            continue
        done = committed.get(tp)
        if done is None:
            done = (low_watermarks or {}).get(tp, 0)
        lags[(tp[0], int(tp[1]))] = max(0, high - done)
    return lags


class Metrics:
    """Every metric of the worker, registered in ``registry``.

    ``clock`` returns the current time (aware); the end-to-end latency is measured against it.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        version: str = __version__,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = registry
        self._clock = clock
        r = registry
        self.articles_consumed = Counter(
            "monitor_articles_consumed",
            "Messages read from the articles topic, valid or not.",
            registry=r,
        )
        self.articles_dead_lettered = Counter(
            "monitor_articles_dead_lettered",
            "Messages sent to the articles dead-letter topic, by reason.",
            ["reason"],
            registry=r,
        )
        self.rule_matches = RuleMatches(r)
        self.alerts_published = Counter(
            "monitor_alerts_published",
            "Alerts written to the alerts topic, by rule, severity and story status.",
            ["rule", "severity", "status"],
            registry=r,
        )
        self.processing_latency = Histogram(
            "monitor_processing_latency_seconds",
            "From consuming an article to its alert being acknowledged by Kafka.",
            buckets=PROCESSING_BUCKETS,
            registry=r,
        )
        self.end_to_end_latency = Histogram(
            "monitor_end_to_end_latency_seconds",
            "From the article's published_at (or produce time) to the webhook delivered.",
            buckets=END_TO_END_BUCKETS,
            registry=r,
        )
        self.webhook_attempts = Counter(
            "monitor_webhook_attempts",
            "Webhook delivery attempts, by subscriber and outcome.",
            ["subscriber", "outcome"],
            registry=r,
        )
        self.webhook_delivery_latency = Histogram(
            "monitor_webhook_delivery_latency_seconds",
            "From the alert's creation to its receiver's 2xx (retries included), by subscriber.",
            ["subscriber"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.webhook_circuit_state = Gauge(
            "monitor_webhook_circuit_state",
            "Subscriber circuit breaker: 0 closed, 1 half-open, 2 open.",
            ["subscriber"],
            registry=r,
        )
        self.webhook_dead_lettered = Counter(
            "monitor_webhook_dead_lettered",
            "Alerts given up on and written to the webhook dead-letter topic, by subscriber.",
            ["subscriber"],
            registry=r,
        )
        self.webhook_processing_errors = Counter(
            "monitor_webhook_processing_errors",
            "Errors of the delivery code by subscriber and reason: alerts-topic records it "
            "could not handle (each is dead-lettered), or turns of a subscriber's fetch loop "
            "that raised (loop_failed; the loop goes on).",
            ["subscriber", "reason"],
            registry=r,
        )
        self.webhook_dead_letters_stuck = Gauge(
            "monitor_webhook_dead_letters_stuck",
            "Dead letters Kafka refuses with an error that retrying does not fix (e.g. not "
            "authorized): retried slowly, their alerts uncommitted, by subscriber.",
            ["subscriber"],
            registry=r,
        )
        self.webhook_subscriber_disabled = Gauge(
            "monitor_webhook_subscriber_disabled",
            "1 when a subscriber was disabled (its endpoint answered 410 Gone).",
            ["subscriber"],
            registry=r,
        )
        self.consumer_lag_messages = Gauge(
            "monitor_consumer_lag_messages",
            "Messages between the committed offset and the end of each assigned partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.rules_loaded_count = Gauge(
            "monitor_rules_loaded",
            "Rules in the active rule set.",
            registry=r,
        )
        self.rule_reloads = Counter(
            "monitor_rule_reloads",
            "Rule set reloads, by outcome (ok: swapped in; invalid: kept the previous set).",
            ["outcome"],
            registry=r,
        )
        self.build_info = Info("monitor_build", "Version of the running worker.", registry=r)
        self.build_info.info({"version": version, "python": platform.python_version()})

        # Series that alerts use with increase()/rate() exist from the start at 0, so that the
        # first event is an increase, not the appearance of a series.
        for reason in DEAD_LETTER_REASONS:
            self.articles_dead_lettered.labels(reason=reason)
        for outcome in RULE_RELOAD_OUTCOMES:
            self.rule_reloads.labels(outcome=outcome)
        self._lag_partitions: set[Partition] = set()

    # -- the pipeline ---------------------------------------------------------------------------

    def article_consumed(self, count: int = 1) -> None:
        """A message was read from the articles topic (call it for invalid ones too)."""
        self.articles_consumed.inc(count)

    def article_dead_lettered(self, reason: str) -> None:
        """A message went to the dead-letter topic; ``reason`` from ``InvalidArticle.REASONS``."""
        self.articles_dead_lettered.labels(reason=_fixed(reason, DEAD_LETTER_REASONS)).inc()

    def rule_matched(self, rule_id: str) -> None:
        self.rule_matches.inc(rule_id)

    def alert_published(self, alert: Alert, seconds: float | None) -> None:
        """An alert was acknowledged by Kafka ``seconds`` after its article was consumed.

        ``seconds`` is None when the consume time is unknown: the alert is counted, not timed.
        """
        self.alerts_published.labels(
            rule=alert.rule_id,
            severity=_fixed(alert.severity, SEVERITIES),
            status=_fixed(alert.status, ALERT_STATUSES),
        ).inc()
        if seconds is not None:
            self.processing_latency.observe(max(0.0, seconds))

    def rules_loaded(self, rule_ids: Iterable[str]) -> None:
        """A rule set became active: its size, and a zero series for each rule's matches."""
        ids = list(rule_ids)
        self.rules_loaded_count.set(len(ids))
        self.rule_matches.loaded(ids)

    def rule_reload(self, outcome: str) -> None:
        """A reload ended: ``ok`` (swapped in) or ``invalid`` (the previous set kept)."""
        self.rule_reloads.labels(outcome=_fixed(outcome, RULE_RELOAD_OUTCOMES)).inc()

    def set_consumer_lag(self, lags: Mapping[Partition, int]) -> None:
        """Publish the lag of the partitions assigned now (see ``consumer_lag``).

        Partitions no longer assigned are removed, so after a rebalance each partition is
        reported by the one worker that owns it.
        """
        current = {(topic, int(partition)) for topic, partition in lags}
        for topic, partition in self._lag_partitions - current:
            self.consumer_lag_messages.remove(topic, str(partition))
        for (topic, partition), lag in lags.items():
            self.consumer_lag_messages.labels(topic=topic, partition=str(partition)).set(lag)
        self._lag_partitions = current

    # -- the delivery observer (monitor.deliver calls these) ------------------------------------

    def attempt(self, subscriber: str, outcome: str) -> None:
        """One webhook attempt ended with ``outcome`` (see ``WEBHOOK_OUTCOMES``)."""
        self.webhook_attempts.labels(
            subscriber=subscriber, outcome=_fixed(outcome, WEBHOOK_OUTCOMES)
        ).inc()

    def delivered(self, subscriber: str, seconds: float, alert: Alert) -> None:
        """``alert`` reached ``subscriber`` ``seconds`` after it was created (retries included).

        The end-to-end latency runs from the article's ``published_at`` to now.
        """
        self.webhook_delivery_latency.labels(subscriber=subscriber).observe(max(0.0, seconds))
        self.end_to_end(self._since(alert.published_at))

    def dead_letter(self, subscriber: str) -> None:
        """An alert for ``subscriber`` was given up on and dead-lettered."""
        self.webhook_dead_lettered.labels(subscriber=subscriber).inc()

    def processing_error(self, subscriber: str, reason: str) -> None:
        """A record for ``subscriber`` could not be handled (see ``WEBHOOK_PROCESSING_ERRORS``)."""
        self.webhook_processing_errors.labels(
            subscriber=subscriber, reason=_fixed(reason, WEBHOOK_PROCESSING_ERRORS)
        ).inc()

    def dead_letter_stuck(self, subscriber: str, stuck: bool) -> None:
        """One more (``stuck``) or one less dead letter of ``subscriber`` Kafka refuses for good."""
        gauge = self.webhook_dead_letters_stuck.labels(subscriber=subscriber)
        if stuck:
            gauge.inc()
        else:
            gauge.dec()

    def circuit(self, subscriber: str, state: Any) -> None:
        """The breaker of ``subscriber`` is now ``state``: closed/half_open/open, 0/1/2, an enum."""
        self.webhook_circuit_state.labels(subscriber=subscriber).set(_circuit_value(state))

    def disabled(self, subscriber: str) -> None:
        """``subscriber`` was disabled (410 Gone); nothing is delivered to it any more."""
        self.webhook_subscriber_disabled.labels(subscriber=subscriber).set(1)

    def end_to_end(self, seconds: float) -> None:
        """Observe an end-to-end latency measured elsewhere (e.g. from the Kafka produce time)."""
        self.end_to_end_latency.observe(max(0.0, seconds))

    def _since(self, then: datetime) -> float:
        if then.tzinfo is None:
            then = then.replace(tzinfo=UTC)
        return (self._clock() - then).total_seconds()


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The body and content type of a ``/metrics`` response for ``registry``."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


FAUST_PREFIX: Final = "faust"


def install_faust_sensors(
    app: Any, registry: CollectorRegistry, *, prefix: str = FAUST_PREFIX
) -> Any:
    """Record faust's own metrics (rebalances, commits, sends, events) in ``registry``.

    This is ``faust.sensors.prometheus.setup_prometheus_sensors`` without its two problems for
    us: it adds its own ``/metrics`` page (the worker serves ``render(registry)`` itself, and a
    second route for the same path clashes), and it prefixes names with the app id, which is
    ``monitor`` by default (``MONITOR_APP_ID``) and would put faust's unit-less, millisecond
    metrics into our ``monitor_`` namespace and rename them whenever the app id changes. Here
    the prefix is fixed: ``faust_messages_received_total``, ``faust_consumer_commit_latency``
    (ms), ``faust_total_rebalances``, ...

    Call it once per registry before the app starts; returns the installed sensor.
    """
    from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

    faust_metrics = FaustMetrics.create(registry, prefix)
    sensor = PrometheusMonitor(metrics=faust_metrics)
    app.monitor = sensor
    return sensor
