"""The Dockerfile and docker-compose.yml, checked without Docker: what they name must exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.settings import ENV

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
TOPIC_SETTINGS = (
    "MONITOR_TOPIC_ARTICLES",
    "MONITOR_TOPIC_ARTICLES_DLQ",
    "MONITOR_TOPIC_ALERTS",
    "MONITOR_TOPIC_WEBHOOK_DLQ",
)


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]  # type: ignore[no-any-return]


def our_services() -> dict[str, dict[str, Any]]:
    """The services running the monitor image (the others are Kafka, Prometheus, Grafana)."""
    return {
        name: svc
        for name, svc in services().items()
        if "build" in svc or str(svc.get("image", "")).startswith("monitor")
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def dockerfile_lines() -> list[str]:
    # join continuation lines, drop comments
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_compose_parses_and_has_the_stack() -> None:
    assert {"kafka", "topic-init", "worker", "receiver", "prometheus", "grafana"} <= set(services())


def test_compose_kafka_is_4x_kraft() -> None:
    kafka = services()["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"])
    assert "controller" in environment(kafka)["KAFKA_PROCESS_ROLES"]


def test_compose_two_workers() -> None:
    assert services()["worker"]["deploy"]["replicas"] == 2


@pytest.mark.parametrize("name", ["worker", "receiver"])
def test_compose_builds_from_existing_context(name: str) -> None:
    build = services()[name]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    assert (ROOT / context / "Dockerfile").is_file()


def test_compose_mounts_exist() -> None:
    for name, svc in services().items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"


def test_compose_monitor_variables_are_settings() -> None:
    for name, svc in our_services().items():
        for var in environment(svc):
            if var.startswith(("MONITOR_", "KAFKA_")):
                assert var in ENV, f"{name} sets {var}, which monitor.settings does not read"


def test_compose_topics_match_the_workers() -> None:
    worker_env = environment(services()["worker"])
    init = services()["topic-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    for var in TOPIC_SETTINGS:
        assert re.search(rf"\b{re.escape(worker_env[var])}\b", script), (
            f"topic-init does not create {worker_env[var]} ({var})"
        )
    assert environment(init)["PARTITIONS"] == worker_env["MONITOR_TOPIC_PARTITIONS"]


def test_compose_worker_listens_where_prometheus_scrapes() -> None:
    worker_env = environment(services()["worker"])
    assert worker_env["MONITOR_WEB_HOST"] == "0.0.0.0"
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "monitor"]
    (sd,) = job["dns_sd_configs"]
    assert sd["names"] == ["worker"]
    assert str(sd["port"]) == worker_env["MONITOR_WEB_PORT"]


def test_compose_prometheus_and_grafana_get_the_shipped_files() -> None:
    prometheus = services()["prometheus"]
    assert any(v.startswith("./deploy/prometheus:") for v in prometheus["volumes"])
    grafana = services()["grafana"]
    assert any("deploy/grafana/dashboard.json" in v for v in grafana["volumes"])
    assert any("deploy/grafana/provisioning" in v for v in grafana["volumes"])


def test_dockerfile_is_multi_stage() -> None:
    stages = [line for line in dockerfile_lines() if line.upper().startswith("FROM ")]
    assert len(stages) >= 2
    assert all("python:3.11-slim" in line for line in stages)


def test_dockerfile_runs_as_non_root() -> None:
    users = [line.split()[1] for line in dockerfile_lines() if line.upper().startswith("USER ")]
    assert users, "no USER"
    assert users[-1] not in ("root", "0", "0:0")


def test_dockerfile_healthcheck_uses_stdlib_on_healthz() -> None:
    (check,) = [line for line in dockerfile_lines() if line.upper().startswith("HEALTHCHECK")]
    assert "urllib.request" in check
    assert "/healthz" in check
    assert "curl" not in check


def test_dockerfile_entrypoint_is_monitor_worker() -> None:
    lines = dockerfile_lines()
    assert 'ENTRYPOINT ["monitor"]' in lines
    assert 'CMD ["worker"]' in lines


def test_dockerfile_copies_existing_paths_and_bakes_rules() -> None:
    copies = [line.split()[1:] for line in dockerfile_lines() if line.upper().startswith("COPY ")]
    for args in copies:
        if any(a.startswith("--from") for a in args):
            continue  # from another stage, not from the build context
        for source in [a for a in args if not a.startswith("--")][:-1]:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    assert ["rules", "/app/rules"] in [[a for a in c if not a.startswith("--")] for c in copies]
    assert any("MONITOR_RULES=/app/rules" in line for line in dockerfile_lines())


def test_dockerfile_variables_are_settings() -> None:
    for var in re.findall(r"\b((?:MONITOR|KAFKA)_[A-Z_]+)=", DOCKERFILE.read_text()):
        assert var in ENV, f"Dockerfile sets {var}, which monitor.settings does not read"
