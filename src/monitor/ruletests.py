"""Rule tests: every rule carries example texts that must / must not fire it (``tests:``).

``run_rule_tests`` turns each example into an ``Article`` and asks ``process`` which rules fire.
The lead passes the full pipeline (enrichment supplies the facts); without one, the engine runs
alone and an example's ``facts:`` stand in for enrichment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.article import Article
from monitor.engine import RuleSet, match
from monitor.rule import Example, Rule
from monitor.ruleset import load_ruleset
from monitor.text import analyse

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ExampleFacts:
    """An example's stated facts, as the engine's ``Facts``."""

    countries: frozenset[str]
    location: str | None
    actors: frozenset[str]
    figures: tuple[tuple[str, int], ...]

    def figure(self, kind: str) -> int | None:
        return dict(self.figures).get(kind)


@dataclass(frozen=True, slots=True)
class RuleTestCase:
    """One example of one rule: ``expected`` says whether the rule must fire."""

    rule: Rule
    example: Example
    expected: bool
    index: int

    @property
    def id(self) -> str:
        kind = "match" if self.expected else "no_match"
        return f"{self.rule.id}-{kind}-{self.index}-{self.example.lang}"

    def article(self) -> Article:
        return Article(
            id=f"ruletest-{self.id}",
            url=f"ruletest:{self.id}",
            title="",
            text=self.example.text,
            source="ruletest",
            published_at=_EPOCH,
            language=self.example.lang,
        )


@dataclass(frozen=True, slots=True)
class RuleTestFailure:
    case: RuleTestCase
    fired: tuple[str, ...]

    def __str__(self) -> str:
        want = "should fire" if self.case.expected else "should not fire"
        where = f"{self.case.rule.source}:{self.case.example.line}"
        return f"{where}: {self.case.rule.id} {want} on {self.case.example.text[:60]!r}"


@dataclass(frozen=True, slots=True)
class RuleTestReport:
    """How many examples ran, and those that failed."""

    total: int
    failures: tuple[RuleTestFailure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def cases(ruleset: RuleSet) -> Iterator[RuleTestCase]:
    """Every example of every rule, in rule set order."""
    for rule in ruleset.rules:
        for i, example in enumerate(rule.should_match):
            yield RuleTestCase(rule, example, True, i)
        for i, example in enumerate(rule.should_not_match):
            yield RuleTestCase(rule, example, False, i)


def engine_only(ruleset: RuleSet, example: Example) -> list[str]:
    """Fired rule ids, the engine alone, with the example's facts (if it states any)."""
    doc = analyse(example.text, example.lang)
    stated = ExampleFacts(example.countries, example.location, example.actors, example.figures)
    facts = (lambda: stated) if example.has_facts else None
    return [m.rule.id for m in match(doc, ruleset, facts)]


def run_case(
    ruleset: RuleSet, case: RuleTestCase, process: Callable[[Article], list[str]] | None = None
) -> RuleTestFailure | None:
    fired = process(case.article()) if process else engine_only(ruleset, case.example)
    if (case.rule.id in fired) != case.expected:
        return RuleTestFailure(case, tuple(fired))
    return None


def run_rule_tests(
    path: Path, process: Callable[[Article], list[str]] | None = None
) -> RuleTestReport:
    """Run the examples of the rules under ``path``; ``RuleSetError`` if the rules are invalid."""
    ruleset = load_ruleset(path)
    all_cases = list(cases(ruleset))
    failures = [f for c in all_cases if (f := run_case(ruleset, c, process)) is not None]
    return RuleTestReport(len(all_cases), tuple(failures))
