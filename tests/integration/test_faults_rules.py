"""Faults in the rules (issue 7, fault 6): a broken reload keeps the working rules; 10,000 rules
load within the rule engine's budget (build under 5 s and under 300 MB)."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.match import make_rules, vocabulary
from monitor.producer import produce_files
from monitor.rule import Rule
from monitor.settings import Settings
from tests.worker_support import REPO, Record, Topics, WorkerProcess, metric_value, read_topic

pytestmark = [pytest.mark.slow]

RULE_X = "coup_attempt"
PROBE = "fault_probe"
BROKEN_RULE = """\
id: fault_probe
title: Probe rule of the reload fault test
severity: {base: low}
languages: [en]
terms:
  probe:
    en: [quokka stampede]
match:
  - any: [probe, missing_group]
"""
FIXED_RULE = BROKEN_RULE.replace("[probe, missing_group]", "[probe]")


def _example(article_id: str) -> dict[str, Any]:
    for line in (REPO / "examples" / "articles.jsonl").read_text().splitlines():
        if line.strip() and json.loads(line)["id"] == article_id:
            doc: dict[str, Any] = json.loads(line)
            return doc
    raise AssertionError(f"{article_id} is not in examples/articles.jsonl")


def _wait(what: str, condition: Callable[[], bool], worker: WorkerProcess, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}\n{worker.tail()}")
        time.sleep(0.2)


def _answer(worker: WorkerProcess, path: str, within: float = 20.0) -> tuple[int, str]:
    """The worker's answer on ``path``, asked again while it does not answer at all: a rule
    reload runs on the worker's event loop and holds its web server for seconds."""
    deadline = time.monotonic() + within
    while True:
        status, body = worker.get(path)
        if status or time.monotonic() > deadline:
            return status, body
        time.sleep(0.2)


def _log_messages(worker: WorkerProcess) -> list[str]:
    messages = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            messages.append(str(entry.get("msg", "")))
    return messages


def _replace(path: Path, text: str, staging: Path) -> None:
    """Write ``text`` to ``path`` at once, so a poll never sees half a file."""
    staging.write_text(text)
    os.replace(staging, path)


@pytest.mark.integration
@pytest.mark.timeout(240)
async def test_broken_rule_file_keeps_the_active_rules_and_its_fix_is_picked_up(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """A rule file with an error written into a running worker's rules folder (seen by the poll,
    then again on SIGHUP) is rejected: the error is logged with file:line, counted in
    ``monitor_rule_reloads_total{outcome="invalid"}``, ``/readyz`` stays 200, and an article
    still fires the rule that fired before (the old set is active, not an empty one). Once the
    file is fixed, the poll swaps in the set with the new rule and an article fires it."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for source in sorted((REPO / "rules").glob("*.yaml")):
        (rules / source.name).write_text(source.read_text())
    active = len(list(rules.glob("*.yaml")))
    coup = _example("ex-ru-001")
    articles = [
        {**coup, "id": "fault6-coup-1", "source": "wire-1"},
        {**coup, "id": "fault6-coup-2", "source": "wire-2"},
        {
            "id": "fault6-probe",
            "url": "https://example.org/en/quokka",
            "source": "wire-3",
            "published_at": "2026-11-22T09:00:00Z",
            "language": "en",
            "title": "Quokka stampede on Rottnest Island",
            "text": "A quokka stampede surprised tourists on Rottnest Island on Sunday, "
            "rangers said. Nobody was hurt and the animals returned to the bush.",
        },
    ]
    topics = Topics(unique_name)
    worker = WorkerProcess(
        kafka_bootstrap,
        topics,
        tmp_path / "worker.log",
        extra_env={"MONITOR_RULES": str(rules), "MONITOR_RULES_POLL_INTERVAL": "0.5"},
    )
    settings = dataclasses.replace(
        Settings.from_env(worker.environ()), kafka_bootstrap_servers=kafka_bootstrap
    )

    async def produce(n: int) -> None:
        path = tmp_path / f"article-{n}.jsonl"
        path.write_text(json.dumps(articles[n]) + "\n")
        await produce_files(settings, topics.articles, [path], raw=False)

    async def alert_for(n: int, rule_id: str) -> None:
        def fired(records: list[Record]) -> bool:
            return any(
                (a := json.loads(r.value))["article_id"] == articles[n]["id"]
                and a["rule_id"] == rule_id
                for r in records
            )

        records = await read_topic(kafka_bootstrap, topics.alerts, until=fired, within=60)
        assert fired(records), f"no {rule_id} alert for {articles[n]['id']}\n{worker.tail()}"

    def metrics() -> str:
        status, body = _answer(worker, "/metrics")
        assert status == 200, (status, body, worker.tail())
        return body

    def reloads(outcome: str) -> float:
        return metric_value(metrics(), "monitor_rule_reloads_total", outcome=outcome)

    with worker:
        await worker.wait_ready()
        await produce(0)
        await alert_for(0, RULE_X)
        assert reloads("invalid") == 0 and reloads("ok") == 0

        probe = rules / f"{PROBE}.yaml"
        _replace(probe, BROKEN_RULE, tmp_path / "staging.yaml")
        _wait("the poll rejects the broken file", lambda: reloads("invalid") >= 1, worker, 30)
        line = next(i for i, t in enumerate(BROKEN_RULE.splitlines(), 1) if "missing_group" in t)
        located = f"{probe}:{line}: unknown group 'missing_group'"
        assert any(
            m.startswith("rule reload rejected") and located in m for m in _log_messages(worker)
        ), f"no log line with {located!r}\n{worker.tail()}"
        assert worker.process is not None
        worker.process.send_signal(signal.SIGHUP)
        _wait("SIGHUP rejects it again", lambda: reloads("invalid") >= 2, worker, 30)
        page = metrics()
        assert metric_value(page, "monitor_rules_loaded") == active
        assert metric_value(page, "monitor_rule_reloads_total", outcome="ok") == 0
        assert _answer(worker, "/readyz")[0] == 200, worker.tail()
        await produce(1)
        await alert_for(1, RULE_X)

        _replace(probe, FIXED_RULE, tmp_path / "staging.yaml")
        _wait("the poll swaps in the fixed set", lambda: reloads("ok") >= 1, worker, 30)
        assert metric_value(metrics(), "monitor_rules_loaded") == active + 1
        await produce(2)
        await alert_for(2, PROBE)
        assert _answer(worker, "/readyz")[0] == 200, worker.tail()
        assert worker.terminate(within=60) == 0, worker.tail()


# The load runs in a child process so that its peak RSS (VmHWM) is the load's alone; the baseline
# child imports the same modules and loads nothing.
_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from monitor.ruleset import load_ruleset

def peak_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")

result = {}
if sys.argv[1] == "load":
    wall, cpu = time.perf_counter(), time.process_time()
    # SIGXCPU ends a load that has used CPU_CAP seconds: it has failed the budget long before
    cap = int(cpu + float(sys.argv[4])) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cap, cap + 10))
    ruleset = load_ruleset(Path(sys.argv[2]), cache_dir=Path(sys.argv[3]))
    result = {
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "rules": len(ruleset.rules),
    }
result["peak_kb"] = peak_kb()
print(json.dumps(result))
"""
RULES = 10_000
LOADS = 3
"""Loads measured, each in a fresh child: the budget is checked on their median, as benchmarks
are quoted here, because the CPU time of one run on a shared 2-core VM varies by a third."""
BUDGET_SECONDS = 5.0
BUDGET_MB = 300.0
CPU_CAP = 30.0
"""CPU seconds after which the load is stopped: 6x the budget, so a failing load still reports its
figure when it is near the budget and the test stays bounded when it is far off."""
CHILD_TIMEOUT = 240.0


def _rule_yaml(rule: Rule) -> dict[str, Any]:
    """A rule of ``bench/match.py`` as the YAML document an editor would write for it."""
    clause = rule.clauses[0]
    match: dict[str, Any] = {"all": list(clause.all)} if clause.all else {"any": list(clause.any)}
    if clause.min_hits > 1:
        match["min_hits"] = clause.min_hits
    if clause.near is not None:
        match["near"] = clause.near
    terms: dict[str, dict[str, list[str]]] = {}
    for group in rule.groups:
        for term in group.terms:
            terms.setdefault(group.name, {}).setdefault(term.lang, []).append(term.text)
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": {"base": rule.severity.base},
        "languages": list(rule.languages),
        "terms": terms,
        "match": [match],
    }


def _measure(*args: str) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, *args],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"loading {RULES} rules did not finish within {CHILD_TIMEOUT:.0f} s of wall clock "
            f"(budget {BUDGET_SECONDS:.0f} s of CPU)"
        ) from None
    assert done.returncode != -signal.SIGXCPU, (
        f"loading {RULES} rules used more than {CPU_CAP:.0f} s of CPU and was stopped "
        f"(budget {BUDGET_SECONDS:.0f} s)"
    )
    assert done.returncode == 0, (done.returncode, done.stderr)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.timeout(360)
def test_ten_thousand_rules_load_within_the_rule_engine_budget(tmp_path: Path) -> None:
    """10,000 synthetic rules (``bench/match.py``'s generator, seeded) written as YAML files load
    with ``load_ruleset`` (the worker's loader: parse, validate, compile the automaton) in under
    5 s (the median of three loads), with a peak RSS under 300 MB above an interpreter that
    imported the same modules.

    The 5 s are CPU seconds of the load: it is single-threaded and CPU-bound, and on a shared
    machine the wall clock also counts the time spent waiting for a CPU (both are printed).

    The lexicon is out of the measure, and that is not a choice: the synthetic rules have exact
    and prefix terms only (English), and ``load_ruleset`` reads simplemma's dictionaries only for
    lemma terms; the load is given an empty cache folder and the test checks it stays empty, so no
    dictionary was read, cold or warm. A set of real lemma rules adds the lexicon (cached under
    ``$TMPDIR/monitor-lexicon``; cold ~25 s once per language) on top of this.
    """
    rng = random.Random(20240101)
    filler = vocabulary(rng, 3000)
    topic = [w for w in vocabulary(rng, 20_000) if w not in set(filler)]
    rules = make_rules(rng, topic, RULES)
    folder = tmp_path / "rules"
    folder.mkdir()
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    for rule in rules:
        text = yaml.dump(_rule_yaml(rule), Dumper=dumper, sort_keys=False, allow_unicode=True)
        (folder / f"{rule.id}.yaml").write_text(text)
    lexicon = tmp_path / "lexicon"

    baseline = _measure("baseline")
    runs = [_measure("load", str(folder), str(lexicon), str(CPU_CAP)) for _ in range(LOADS)]
    cpu = statistics.median(r["cpu"] for r in runs)
    peak_mb = (statistics.median(r["peak_kb"] for r in runs) - baseline["peak_kb"]) / 1024
    each = ", ".join(f"{r['cpu']:.2f}" for r in runs)
    walls = ", ".join(f"{r['wall']:.2f}" for r in runs)
    figures = (
        f"{RULES} rules: load {cpu:.2f} s of CPU, the median of {each} ({walls} s wall; budget "
        f"{BUDGET_SECONDS:.0f} s), peak RSS {peak_mb:.0f} MB above a "
        f"{baseline['peak_kb'] / 1024:.0f} MB baseline (budget {BUDGET_MB:.0f} MB)"
    )
    print(figures)
    assert all(r["rules"] == RULES for r in runs)
    assert not lexicon.exists() or not any(lexicon.iterdir()), "the lexicon was read"
    assert cpu < BUDGET_SECONDS, figures
    assert peak_mb < BUDGET_MB, figures
