"""``monitor match --explain``: a rule's hits, where they stand, what drops them, and the same
verdict as the engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.engine import RuleSet, match
from monitor.explain import explain
from monitor.text import analyse
from tests import rule_support

COUP = """
terms:
  coup: {en: [coup], de: [putsch*]}
  army: {en: [army, soldiers], de: [armee, soldaten]}
  figurative: {en: [boardroom], de: [aufsichtsrat]}
scare_quotes: [coup]
ignore_sentences_with: [figurative]
lead_sentences: 1
match:
  - name: a coup with the army
    all: [coup, army]
    near: sentence
"""


@pytest.fixture
def rules(tmp_path: Path) -> RuleSet:
    return rule_support.ruleset(tmp_path, COUP, languages="[en, de]")


def test_a_firing_rule_names_its_clause_and_places_its_hits(rules: RuleSet) -> None:
    doc = analyse("Coup in Niger\n\nThe army staged a coup. Shops closed.", "en")
    found = explain(doc, rules, "rule")
    assert found.clause is not None and found.clause.startswith("a coup with the army")
    assert [(h.group, h.surface, h.sentence, h.in_lead, h.dropped) for h in found.hits] == [
        ("coup", "Coup", 0, True, None),
        ("army", "army", 1, True, None),
        ("coup", "coup", 1, True, None),
    ]
    assert "fires: a coup with the army" in found.render()


def test_a_missing_rule_says_what_dropped_its_hits(rules: RuleSet) -> None:
    """Scare quotes and an ignored sentence are named per hit, and the lead ends where the rule
    says (one sentence after the title here)."""
    text = "Boardroom 'coup'\n\nSoldiers of fortune. The boardroom coup had the army's backing."
    doc = analyse(text, "en")
    found = explain(doc, rules, "rule")
    assert found.clause is None
    dropped = {(h.surface, h.dropped) for h in found.hits}
    assert ("coup", "in scare quotes") in dropped
    assert ("coup", "sentence dropped by 'figurative'") in dropped
    assert ("boardroom", "drops its sentence (ignore_sentences_with)") in dropped
    assert ("Soldiers", None) in dropped
    assert [h.in_lead for h in found.hits if h.surface == "Soldiers"] == [True]
    assert [h.in_lead for h in found.hits if h.surface == "army"] == [False]
    assert found.render().splitlines()[0] == "rule (en): does not fire"


def test_no_hits_and_unknown_rules(rules: RuleSet) -> None:
    found = explain(analyse("Markets were calm.", "en"), rules, "rule")
    assert found.hits == () and "no term of the rule occurs" in found.render()
    with pytest.raises(KeyError):
        explain(analyse("Markets were calm.", "en"), rules, "no_such_rule")


@pytest.mark.parametrize(
    "text",
    [
        "Putsch in Niger\n\nSoldaten der Armee besetzten den Palast.",
        "Putsch in Niger\n\nDer Aufsichtsrat tagte. Soldaten besetzten den Palast.",
        "„Putsch“ im Verein\n\nDie Armee blieb in der Kaserne.",
        "Ruhe\n\nDer Putsch von 1920 scheiterte, die Soldaten gingen heim.",
    ],
)
def test_the_verdict_is_the_engines(rules: RuleSet, text: str) -> None:
    """The explanation reads the engine's own decision: it fires exactly when ``match`` does."""
    doc = analyse(text, "de")
    fired = [m.clause for m in match(doc, rules)]
    assert explain(doc, rules, "rule").clause == (fired[0] if fired else None)


def test_monitor_match_explain_prints_the_explanation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    rule_support.ruleset(rules_dir, COUP, languages="[en, de]")
    article = {
        "id": "a1",
        "url": "https://example.org/a1",
        "title": "Coup in Niger",
        "text": "The army staged a coup in Niamey on Tuesday, soldiers said.",
        "source": "test",
        "published_at": "2026-11-25T00:00:00Z",
        "language": "en",
    }
    articles = tmp_path / "a.jsonl"
    articles.write_text(json.dumps(article) + "\n", encoding="utf-8")
    assert main(["match", "--rules", str(rules_dir), "--explain", "rule", str(articles)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("a1: rule (en): fires: a coup with the army")
    assert "location NE" in out
    assert main(["match", "--rules", str(rules_dir), "--explain", "other", str(articles)]) != 0
