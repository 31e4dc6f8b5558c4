"""Every example embedded in the production rules (``rules/*.yaml``) passes.

With the lead's pipeline importable, examples run through it (enrichment supplies the facts);
until then the engine runs alone and each example's ``facts:`` stand in for enrichment.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.article import Article
from monitor.ruleset import load_ruleset
from monitor.ruletests import RuleTestCase, cases, run_case
from monitor.text import analyse

RULES = Path(__file__).parent.parent.parent / "rules"
RULESET = load_ruleset(RULES)
SEED = Path("/work/shared/seeds/000_3f0d7a8a7abd1322.txt")


def _process() -> Callable[[Article], list[str]] | None:
    if importlib.util.find_spec("monitor.pipeline") is None:
        return None
    from monitor import pipeline  # the lead's full pipeline, once it exists

    full = pipeline.Pipeline.from_paths(rules=RULES)
    return lambda article: [a.rule_id for a in full.process(article, article.published_at)]


PROCESS = _process()


@pytest.mark.parametrize("case", list(cases(RULESET)), ids=lambda c: c.id)
def test_rule_example(case: RuleTestCase) -> None:
    failure = run_case(RULESET, case, PROCESS)
    assert failure is None, f"{failure} (fired: {failure.fired if failure else ()})"


def test_starter_pack_ids() -> None:
    assert sorted(r.id for r in RULESET) == [
        "coup_attempt",
        "deadly_unrest",
        "foreign_troop_deployment",
        "government_dismissal",
        "state_of_emergency",
    ]


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed article is not on this machine")
def test_seed_article_fires_the_expected_rules() -> None:
    from monitor.engine import match
    from monitor.ruletests import ExampleFacts

    facts = ExampleFacts(frozenset({"RU", "KZ"}), "KZ", frozenset({"RU"}), (("deaths", 164),))
    fired = {m.rule.id for m in match(analyse(SEED.read_text(), "nl"), RULESET, lambda: facts)}
    assert {"foreign_troop_deployment", "government_dismissal", "deadly_unrest"} <= fired
