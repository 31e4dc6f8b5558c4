"""Metrics: a fresh registry per test, values read back with ``get_sample_value``."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from monitor.alert import Alert, LanguageInfo
from monitor.metrics import (
    DEAD_LETTER_REASONS,
    Metrics,
    Partition,
    configure_exposition,
    consumer_lag,
    install_faust_sensors,
    render,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> Metrics:
    return Metrics(registry, version="1.2.3", clock=lambda: NOW)


def make_alert(**overrides: object) -> Alert:
    fields: dict[str, object] = {
        "alert_id": "al_1",
        "rule_id": "protest",
        "rule_title": "Protest",
        "severity": "high",
        "status": "new",
        "story_id": "st_1",
        "article_id": "a-1",
        "article_url": "https://example.org/a-1",
        "article_title": "t",
        "source": "example",
        "published_at": NOW - timedelta(seconds=90),
        "language": LanguageInfo(code="en", confidence=1.0),
        "evidence": (),
        "created_at": NOW,
    }
    fields.update(overrides)
    return Alert(**fields)  # type: ignore[arg-type]


def test_articles_consumed(metrics: Metrics, registry: CollectorRegistry) -> None:
    assert registry.get_sample_value("monitor_articles_consumed_total") == 0
    metrics.article_consumed()
    metrics.article_consumed(3)
    assert registry.get_sample_value("monitor_articles_consumed_total") == 4


def test_dead_letter_reasons_start_at_zero(registry: CollectorRegistry, metrics: Metrics) -> None:
    for reason in DEAD_LETTER_REASONS:
        value = registry.get_sample_value(
            "monitor_articles_dead_lettered_total", {"reason": reason}
        )
        assert value == 0, reason


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        pytest.param("not_json", "not_json", id="known"),
        pytest.param("too_large", "too_large", id="too-large"),
        pytest.param("https://evil.example/unbounded", "other", id="unknown-is-other"),
    ],
)
def test_article_dead_lettered(
    metrics: Metrics, registry: CollectorRegistry, reason: str, label: str
) -> None:
    metrics.article_dead_lettered(reason)
    name = "monitor_articles_dead_lettered_total"
    assert registry.get_sample_value(name, {"reason": label}) == 1


def test_rule_matched_and_rules_loaded(metrics: Metrics, registry: CollectorRegistry) -> None:
    metrics.rules_loaded(["protest", "strike", "coup"])
    assert registry.get_sample_value("monitor_rules_loaded") == 3
    assert registry.get_sample_value("monitor_rule_matches_total", {"rule": "coup"}) == 0
    metrics.rule_matched("protest")
    metrics.rule_matched("protest")
    assert registry.get_sample_value("monitor_rule_matches_total", {"rule": "protest"}) == 2


def test_rule_matches_survive_a_reload(metrics: Metrics, registry: CollectorRegistry) -> None:
    """A reload adds zero series for new rules and keeps the counts of the others, including a
    rule no longer loaded (a labelled Counter never dropped its children either)."""
    metrics.rules_loaded(["protest", "coup"])
    metrics.rule_matched("protest")
    metrics.rules_loaded(["coup", "strike"])
    metrics.rule_matched("coup")
    values = {
        rule: registry.get_sample_value("monitor_rule_matches_total", {"rule": rule})
        for rule in ("protest", "coup", "strike")
    }
    assert values == {"protest": 1, "coup": 1, "strike": 0}
    assert registry.get_sample_value("monitor_rules_loaded") == 2


@pytest.fixture
def without_created() -> Iterator[None]:
    configure_exposition()
    yield
    # process-wide: the other tests keep the client's default
    prometheus_client.enable_created_metrics()  # type: ignore[no-untyped-call]


def test_a_scrape_has_one_line_per_rule(
    without_created: None, metrics: Metrics, registry: CollectorRegistry
) -> None:
    """What made a scrape with 1,000 rules slow were its 2,000 per-rule lines (a count and a
    ``_created`` each): the worker's exposition has one per rule, as a counter family that a
    Prometheus parser reads back with its values, and no ``_created`` series at all."""
    rules = [f"rule.{n:04d}" for n in range(1000)]
    metrics.rules_loaded(rules)
    metrics.rule_matched("rule.0007")
    metrics.attempt("desk", "delivered")
    body, _ = render(registry)
    text = body.decode()
    assert "_created" not in text
    assert text.count("\nmonitor_rule_matches_total{") == len(rules)
    (family,) = (
        f for f in text_string_to_metric_families(text) if f.name == "monitor_rule_matches"
    )
    assert family.type == "counter"
    counts = {s.labels["rule"]: s.value for s in family.samples}
    assert counts == {**dict.fromkeys(rules, 0.0), "rule.0007": 1.0}


def test_alert_published(metrics: Metrics, registry: CollectorRegistry) -> None:
    metrics.alert_published(make_alert(), 0.02)
    metrics.alert_published(make_alert(status="update", severity="critical"), 0.2)
    labels = {"rule": "protest", "severity": "high", "status": "new"}
    assert registry.get_sample_value("monitor_alerts_published_total", labels) == 1
    labels = {"rule": "protest", "severity": "critical", "status": "update"}
    assert registry.get_sample_value("monitor_alerts_published_total", labels) == 1
    assert registry.get_sample_value("monitor_processing_latency_seconds_count") == 2
    assert registry.get_sample_value("monitor_processing_latency_seconds_sum") == pytest.approx(
        0.22
    )
    bucket = "monitor_processing_latency_seconds_bucket"
    assert registry.get_sample_value(bucket, {"le": "0.025"}) == 1


def test_alert_published_without_latency(metrics: Metrics, registry: CollectorRegistry) -> None:
    metrics.alert_published(make_alert(), None)
    labels = {"rule": "protest", "severity": "high", "status": "new"}
    assert registry.get_sample_value("monitor_alerts_published_total", labels) == 1
    assert registry.get_sample_value("monitor_processing_latency_seconds_count") == 0


def test_rule_reload_outcomes(metrics: Metrics, registry: CollectorRegistry) -> None:
    name = "monitor_rule_reloads_total"
    assert registry.get_sample_value(name, {"outcome": "invalid"}) == 0
    metrics.rule_reload("ok")
    metrics.rule_reload("invalid")
    metrics.rule_reload("invalid")
    assert registry.get_sample_value(name, {"outcome": "ok"}) == 1
    assert registry.get_sample_value(name, {"outcome": "invalid"}) == 2


def test_webhook_attempts(metrics: Metrics, registry: CollectorRegistry) -> None:
    metrics.attempt("desk-nl", "retriable")
    metrics.attempt("desk-nl", "delivered")
    metrics.attempt("desk-nl", "something-new")
    name = "monitor_webhook_attempts_total"
    assert registry.get_sample_value(name, {"subscriber": "desk-nl", "outcome": "retriable"}) == 1
    assert registry.get_sample_value(name, {"subscriber": "desk-nl", "outcome": "delivered"}) == 1
    assert registry.get_sample_value(name, {"subscriber": "desk-nl", "outcome": "other"}) == 1


def test_delivered_observes_delivery_and_end_to_end(
    metrics: Metrics, registry: CollectorRegistry
) -> None:
    metrics.delivered("desk-nl", 0.3, make_alert())
    labels = {"subscriber": "desk-nl"}
    assert registry.get_sample_value("monitor_webhook_delivery_latency_seconds_count", labels) == 1
    assert registry.get_sample_value(
        "monitor_webhook_delivery_latency_seconds_sum", labels
    ) == pytest.approx(0.3)
    # published 90 s before the clock's now
    assert registry.get_sample_value("monitor_end_to_end_latency_seconds_sum") == 90
    bucket = "monitor_end_to_end_latency_seconds_bucket"
    assert registry.get_sample_value(bucket, {"le": "60.0"}) == 0
    assert registry.get_sample_value(bucket, {"le": "120.0"}) == 1


def test_end_to_end_never_negative(metrics: Metrics, registry: CollectorRegistry) -> None:
    # a producer clock ahead of ours must not produce negative latencies
    metrics.delivered("desk-nl", 0.1, make_alert(published_at=NOW + timedelta(seconds=5)))
    assert registry.get_sample_value("monitor_end_to_end_latency_seconds_sum") == 0


def test_dead_letter(metrics: Metrics, registry: CollectorRegistry) -> None:
    metrics.dead_letter("desk-fr")
    name = "monitor_webhook_dead_lettered_total"
    assert registry.get_sample_value(name, {"subscriber": "desk-fr"}) == 1


def test_disabled(metrics: Metrics, registry: CollectorRegistry) -> None:
    metrics.disabled("desk-fr")
    name = "monitor_webhook_subscriber_disabled"
    assert registry.get_sample_value(name, {"subscriber": "desk-fr"}) == 1


def test_is_a_delivery_observer(metrics: Metrics, registry: CollectorRegistry) -> None:
    """``Metrics`` is what the dispatcher is given as its observer (mypy checks the protocol),
    and each hook the dispatcher calls lands in its series."""
    from monitor.deliver.observer import DeliveryObserver

    observer: DeliveryObserver = metrics
    observer.attempt("desk-nl", "gone")
    observer.circuit("desk-nl", "half_open")
    observer.disabled("desk-nl")
    observer.dead_letter("desk-nl")
    desk = {"subscriber": "desk-nl"}
    assert (
        registry.get_sample_value("monitor_webhook_attempts_total", {**desk, "outcome": "gone"})
        == 1
    )
    assert registry.get_sample_value("monitor_webhook_circuit_state", desk) == 1
    assert registry.get_sample_value("monitor_webhook_subscriber_disabled", desk) == 1
    assert registry.get_sample_value("monitor_webhook_dead_lettered_total", desk) == 1


class Breaker(enum.Enum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


@pytest.mark.parametrize(
    ("state", "value"),
    [
        pytest.param("closed", 0, id="closed"),
        pytest.param("half-open", 1, id="half-open"),
        pytest.param("half_open", 1, id="half_open"),
        pytest.param("OPEN", 2, id="open-upper"),
        pytest.param(2, 2, id="number"),
        pytest.param(Breaker.HALF_OPEN, 1, id="enum"),
    ],
)
def test_circuit_state(
    metrics: Metrics, registry: CollectorRegistry, state: object, value: int
) -> None:
    metrics.circuit("desk-nl", state)
    name = "monitor_webhook_circuit_state"
    assert registry.get_sample_value(name, {"subscriber": "desk-nl"}) == value


@pytest.mark.parametrize("state", ["ajar", 7, True])
def test_circuit_state_unknown(metrics: Metrics, state: object) -> None:
    with pytest.raises(ValueError, match="unknown circuit state"):
        metrics.circuit("desk-nl", state)


@pytest.mark.parametrize(
    ("highwaters", "committed", "expected"),
    [
        pytest.param({("a", 0): 10}, {("a", 0): 4}, {("a", 0): 6}, id="behind"),
        pytest.param({("a", 0): 10}, {("a", 0): 10}, {("a", 0): 0}, id="caught-up"),
        pytest.param({("a", 0): 10}, {("a", 0): 12}, {("a", 0): 0}, id="stale-highwater"),
        pytest.param({("a", 0): 10}, {("a", 0): None}, {("a", 0): 10}, id="never-committed"),
        pytest.param({("a", 1): 5}, {}, {("a", 1): 5}, id="missing-commit"),
        # just assigned, nothing fetched yet: aiokafka knows no highwater (the survivor of fault
        # 2 crashed on this when its lag timer ran during the takeover)
        pytest.param(
            {("a", 0): None, ("a", 1): 5}, {("a", 0): 3}, {("a", 1): 5}, id="no-highwater"
        ),
        pytest.param(
            {("a", 0): 3, ("a", 1): 8},
            {("a", 0): 1, ("a", 1): 8, ("b", 0): 99},
            {("a", 0): 2, ("a", 1): 0},
            id="only-assigned-partitions",
        ),
    ],
)
def test_consumer_lag(
    highwaters: dict[Partition, int | None],
    committed: dict[Partition, int | None],
    expected: dict[Partition, int],
) -> None:
    assert consumer_lag(highwaters, committed) == expected


def test_consumer_lag_from_low_watermark() -> None:
    lags = consumer_lag({("a", 0): 100}, {("a", 0): None}, low_watermarks={("a", 0): 70})
    assert lags == {("a", 0): 30}


def test_set_consumer_lag_drops_revoked_partitions(
    metrics: Metrics, registry: CollectorRegistry
) -> None:
    name = "monitor_consumer_lag_messages"
    metrics.set_consumer_lag({("articles", 0): 5, ("articles", 1): 7})
    assert registry.get_sample_value(name, {"topic": "articles", "partition": "1"}) == 7
    metrics.set_consumer_lag({("articles", 0): 2})
    assert registry.get_sample_value(name, {"topic": "articles", "partition": "0"}) == 2
    assert registry.get_sample_value(name, {"topic": "articles", "partition": "1"}) is None


def test_build_info(metrics: Metrics, registry: CollectorRegistry) -> None:
    families = {f.name: f for f in registry.collect()}
    (sample,) = families["monitor_build"].samples
    assert sample.name == "monitor_build_info"
    assert sample.labels["version"] == "1.2.3"
    assert sample.value == 1


def test_names_and_render(metrics: Metrics, registry: CollectorRegistry) -> None:
    body, content_type = render(registry)
    assert content_type.startswith("text/plain")
    text = body.decode()
    assert "monitor_articles_consumed_total 0.0" in text
    for family in registry.collect():
        assert family.name.startswith("monitor_"), family.name
        assert not family.name.endswith("_total"), family.name


def test_two_metrics_in_one_registry_clash(registry: CollectorRegistry) -> None:
    Metrics(registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Metrics(registry)


async def test_install_faust_sensors(registry: CollectorRegistry, metrics: Metrics) -> None:
    import faust

    app = faust.App("monitor", broker="kafka://127.0.0.1:1", web_enabled=False)
    sensor = install_faust_sensors(app, registry)
    # faust adds ``app.monitor`` to its sensors when the app starts (App.on_init_dependencies)
    assert app.monitor is sensor

    sensor.on_rebalance_start(app)
    assert registry.get_sample_value("faust_total_rebalances") == 1
    assert registry.get_sample_value("faust_messages_received_total") == 0

    names = {family.name for family in registry.collect()}
    faust_names = {n for n in names if not n.startswith("monitor_")}
    assert faust_names, "faust metrics missing"
    assert all(n.startswith("faust_") for n in faust_names), faust_names
    # ours are still there, next to faust's, in one exposition
    assert "monitor_articles_consumed" in names
