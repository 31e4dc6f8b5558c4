"""A rule reload swaps in a valid rule set and keeps the working one when the new one is broken."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.pipeline import Pipeline
from monitor.runtime import Runtime, rules_fingerprint
from monitor.settings import Settings

RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_paths(RULES)


async def test_broken_reload_keeps_rules_then_a_fix_is_taken(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    settings = dataclasses.replace(Settings.defaults(), rules_path=folder)
    registry = CollectorRegistry()
    runtime = Runtime(settings, pipeline.with_rules(pipeline.ruleset), registry=registry)
    before = runtime.pipeline
    fingerprint = rules_fingerprint(folder)

    (folder / "broken_rule.yaml").write_text("id: broken_rule\ntitle: [unclosed\n")
    assert rules_fingerprint(folder) != fingerprint
    assert await runtime.reload_rules() is False
    assert runtime.pipeline is before, "an invalid rule set must not replace the working one"
    assert registry.get_sample_value("monitor_rule_reloads_total", {"outcome": "invalid"}) == 1

    (folder / "broken_rule.yaml").unlink()
    shutil.copy(folder / "coup_attempt.yaml", folder / "coup_attempt_copy.yaml")
    text = (folder / "coup_attempt_copy.yaml").read_text()
    (folder / "coup_attempt_copy.yaml").write_text(
        text.replace("id: coup_attempt", "id: coup_attempt_copy", 1)
    )
    assert await runtime.reload_rules() is True
    assert runtime.pipeline is not before
    assert runtime.pipeline.ruleset.get("coup_attempt_copy") is not None
    assert registry.get_sample_value("monitor_rule_reloads_total", {"outcome": "ok"}) == 1
    assert registry.get_sample_value("monitor_rules_loaded") == len(pipeline.ruleset.rules) + 1


async def test_a_reload_leaves_the_event_loop_free_while_it_loads(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """The load runs in a thread: the loop (Kafka heartbeats, /metrics, agents) keeps running
    during it. Loaded on the loop itself, the ticker below would not run once until it ended."""
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    settings = dataclasses.replace(Settings.defaults(), rules_path=folder)
    runtime = Runtime(settings, pipeline.with_rules(pipeline.ruleset), registry=CollectorRegistry())
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    start = ticks
    try:
        assert await runtime.reload_rules() is True
    finally:
        ticking.cancel()
    assert ticks - start > 1, "the event loop did not run while the rules were loading"
