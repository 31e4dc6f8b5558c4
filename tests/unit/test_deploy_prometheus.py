"""The shipped Prometheus config and alerts: valid for promtool, tested, and about real metrics.

Needs ``promtool`` (Debian/Ubuntu: ``apt-get install prometheus``); without it these tests fail,
they do not skip.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from monitor.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool is not installed: `apt-get install prometheus` (Debian/Ubuntu) or put the "
            "promtool binary from a Prometheus release on PATH"
        )
    return path


def run_promtool(*args: str) -> str:
    result = subprocess.run(
        [promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output


def our_sample_names() -> set[str]:
    """Every series name a worker exposes (histograms with their _bucket/_sum/_count)."""
    registry = CollectorRegistry()
    Metrics(registry)
    names: set[str] = set()
    for family in registry.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count"))
        elif family.type == "info":
            names.add(f"{family.name}_info")
    return names


def alert_rules() -> list[dict[str, str]]:
    document = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_promtool_check_config() -> None:
    run_promtool("check", "config", "prometheus.yml")


def test_promtool_check_rules() -> None:
    output = run_promtool("check", "rules", "alerts.yml")
    assert f"{len(alert_rules())} rules found" in output


def test_promtool_test_rules() -> None:
    output = run_promtool("test", "rules", "alerts_test.yml")
    assert "SUCCESS" in output


def test_every_alert_is_unit_tested() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in alert_rules()} <= firing


def test_alerts_use_metrics_the_worker_exposes() -> None:
    exposed = our_sample_names()
    for rule in alert_rules():
        for name in re.findall(r"\bmonitor_[a-z_]+", rule["expr"]):
            assert name in exposed, f"{rule['alert']} uses {name}, which no worker exposes"


def test_the_required_alerts_exist() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    assert {
        "MonitorNoArticlesConsumed",
        "MonitorDeadLetterRateHigh",
        "MonitorWebhookFailureRateHigh",
        "MonitorConsumerLagGrowing",
        "MonitorRuleReloadFailed",
    } <= names


def test_dashboard_covers_every_metric() -> None:
    dashboard = (GRAFANA / "dashboard.json").read_text()
    registry = CollectorRegistry()
    Metrics(registry)
    for family in registry.collect():
        assert family.name in dashboard, f"{family.name} is on no dashboard panel"
