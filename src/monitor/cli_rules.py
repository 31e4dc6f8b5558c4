"""The `monitor rules check [PATH]` and `monitor rules test [PATH]` commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.errors import RuleSetError
from monitor.ruleset import check, load_ruleset
from monitor.ruletests import run_rule_tests
from monitor.settings import Settings


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = subparsers.add_parser("rules", help="validate and test rule files")
    commands = rules.add_subparsers(dest="rules_command", required=True)
    checking = commands.add_parser("check", help="validate every rule file, print every error")
    checking.add_argument("path", nargs="?", type=Path, help="default: MONITOR_RULES")
    checking.set_defaults(func=_check)
    testing = commands.add_parser("test", help="run the examples embedded in the rules")
    testing.add_argument("path", nargs="?", type=Path, help="default: MONITOR_RULES")
    testing.add_argument(
        "--engine-only", action="store_true", help="no enrichment: use the examples' facts"
    )
    testing.set_defaults(func=_test)


def _path(args: argparse.Namespace, settings: Settings | None) -> Path:
    if args.path is not None:
        return Path(args.path)
    return settings.rules_path if settings is not None else Path("rules")


def _check(args: argparse.Namespace, settings: Settings | None = None) -> int:
    path = _path(args, settings)
    errors = check(path)
    for error in errors:
        sys.stdout.write(f"{error}\n")
    if errors:
        sys.stdout.write(f"{len(errors)} error(s)\n")
        return 1
    ruleset = load_ruleset(path)
    sys.stdout.write(f"{path}: {len(ruleset)} rule(s) valid, {ruleset.size} automaton keys\n")
    return 0


def _test(args: argparse.Namespace, settings: Settings | None = None) -> int:
    path = _path(args, settings)
    try:
        if args.engine_only:
            report = run_rule_tests(path)
        else:
            from monitor.pipeline import Pipeline  # the full pipeline: enrichment gives the facts

            full = Pipeline.from_paths(rules=path)
            report = run_rule_tests(
                path, lambda a: [x.rule_id for x in full.process(a, a.published_at)]
            )
    except RuleSetError as exc:
        for error in exc.errors:
            sys.stdout.write(f"{error}\n")
        return 1
    for failure in report.failures:
        sys.stdout.write(f"FAIL {failure} (fired: {', '.join(failure.fired) or 'nothing'})\n")
    passed = report.total - len(report.failures)
    sys.stdout.write(f"{passed}/{report.total} rule examples passed\n")
    return 0 if report.ok else 1
