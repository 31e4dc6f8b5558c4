"""The engine, table-driven: folding, wildcards, lemmas, boundaries, logic, proximity, facts."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.engine import Facts, RuleSet, match
from monitor.ruleset import load_ruleset
from monitor.text import analyse, fold


def ruleset(tmp_path: Path, body: str, languages: str = "[nl, en, de, fr, ru]") -> RuleSet:
    text = f"id: rule\ntitle: test rule\nseverity: {{base: low}}\nlanguages: {languages}\n"
    (tmp_path / "rule.yaml").write_text(text + textwrap.dedent(body), encoding="utf-8")
    return load_ruleset(tmp_path)


def fired(rs: RuleSet, text: str, lang: str = "en", facts: Facts | None = None) -> bool:
    make: Callable[[], Facts] | None = (lambda: facts) if facts is not None else None
    return bool(match(analyse(text, lang), rs, make))


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        pytest.param("Déploiement", "deploiement", id="french-accents"),
        pytest.param("Ausländische TRUPPEN", "auslandische truppen", id="german-umlaut-case"),
        pytest.param("Ёлка Москва", "елка москва", id="cyrillic-yo"),
        pytest.param("España", "españa", id="spanish-enye-kept"),
        pytest.param("l’armée", "l'armee", id="typographic-apostrophe"),
    ],
)
def test_fold_is_length_preserving(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert len(fold(text)) == len(text)


TERMS = """
terms:
  t:
    en: [troop*, peace keeping, soldiers]
    nl: [~soldaat, ~inroepen, troep*]
    de: [truppen]
    fr: [déploiement]
    ru: [войск*, ~ввести]
match:
  - any: [t]
"""


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        pytest.param("Troops arrived.", "en", True, id="prefix-plural"),
        pytest.param("The troopship sailed.", "en", True, id="prefix-continues"),
        pytest.param("Paratroops arrived.", "en", False, id="no-match-inside-word"),
        pytest.param("Peace  keeping", "en", False, id="phrase-needs-single-space"),
        pytest.param("PEACE KEEPING missions", "en", True, id="phrase-case-folded"),
        pytest.param("peace-keeping missions", "en", True, id="hyphen-is-a-boundary"),
        pytest.param("soldiersX", "en", False, id="exact-needs-word-end"),
        pytest.param("De soldaten kwamen.", "nl", True, id="lemma-plural"),
        pytest.param("De hulp werd ingeroepen.", "nl", True, id="lemma-participle"),
        pytest.param("De troepenmacht vertrekt.", "nl", True, id="nl-prefix-compound"),
        pytest.param("Die Truppen ziehen ab.", "de", True, id="de-exact"),
        pytest.param("le DEPLOIEMENT des forces", "fr", True, id="diacritics-folded"),
        pytest.param("Введены войска.", "ru", True, id="cyrillic-prefix-and-lemma"),
        pytest.param("Troops arrived.", "nl", False, id="other-language-terms-ignored"),
        pytest.param("Troops arrived.", "xx", True, id="unknown-language-uses-all"),
    ],
)
def test_terms(tmp_path: Path, text: str, lang: str, expected: bool) -> None:
    assert fired(ruleset(tmp_path, TERMS), text, lang) is expected


LOGIC = """
terms:
  a: {en: [alpha, aleph]}
  b: {en: [beta]}
  c: {en: [gamma]}
  x: {en: [xray]}
match:
  - name: both
    all: [a, b]
    none: [x]
  - name: two alphas
    any: [a]
    min_hits: 2
  - name: gamma near beta
    all: [c, b]
    near: 3
"""


@pytest.mark.parametrize(
    ("text", "clause"),
    [
        pytest.param("alpha and beta", "both: all(a, b) none(x)", id="all-of"),
        pytest.param("alpha and beta and xray", None, id="none-of-blocks"),
        pytest.param("alpha alpha", None, id="min-hits-counts-distinct-terms"),
        pytest.param("alpha aleph", "two alphas: any(a) min_hits 2", id="min-hits"),
        pytest.param("gamma one two beta", "gamma near beta: all(c, b) within 3 tokens", id="near"),
        pytest.param("gamma one two three four beta", None, id="too-far"),
        pytest.param("nothing here", None, id="no-hit"),
    ],
)
def test_logic(tmp_path: Path, text: str, clause: str | None) -> None:
    found = match(analyse(text, "en"), ruleset(tmp_path, LOGIC, "[en]"))
    assert [m.clause for m in found] == ([clause] if clause else [])


SENTENCE = """
terms:
  a: {en: [troops]}
  b: {en: [sent]}
  drill: {en: [exercise]}
ignore_sentences_with: [drill]
match:
  - all: [a, b]
    near: sentence
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Troops were sent in.", True, id="same-sentence"),
        pytest.param("Troops are ready. Nobody was sent.", False, id="different-sentences"),
        pytest.param("Troops were sent for an exercise.", False, id="false-friend-in-sentence"),
        pytest.param("Troops were sent in. The exercise ended.", True, id="false-friend-elsewhere"),
    ],
)
def test_sentence_scope(tmp_path: Path, text: str, expected: bool) -> None:
    assert fired(ruleset(tmp_path, SENTENCE, "[en]"), text) is expected


@dataclass
class FakeFacts:
    countries: frozenset[str] = frozenset()
    location: str | None = None
    actors: frozenset[str] = frozenset()
    figures: dict[str, int] = field(default_factory=dict)

    def figure(self, kind: str) -> int | None:
        return self.figures.get(kind)


FACTS = """
terms:
  a: {en: [troops]}
match:
  - all: [a]
    facts: {min_countries: 2, foreign_actor: true, figures: {deaths: 10}}
"""


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(None, False, id="no-facts-is-false"),
        pytest.param(
            FakeFacts(frozenset({"RU", "KZ"}), "KZ", frozenset({"RU"}), {"deaths": 164}),
            True,
            id="all-hold",
        ),
        pytest.param(
            FakeFacts(frozenset({"KZ"}), "KZ", frozenset({"RU"}), {"deaths": 164}),
            False,
            id="one-country",
        ),
        pytest.param(
            FakeFacts(frozenset({"RU", "KZ"}), "KZ", frozenset({"KZ"}), {"deaths": 164}),
            False,
            id="troops-at-home",
        ),
        pytest.param(
            FakeFacts(frozenset({"RU", "KZ"}), None, frozenset({"RU"}), {"deaths": 164}),
            False,
            id="unknown-location",
        ),
        pytest.param(
            FakeFacts(frozenset({"RU", "KZ"}), "KZ", frozenset({"RU"}), {"deaths": 9}),
            False,
            id="too-few-deaths",
        ),
    ],
)
def test_fact_conditions(tmp_path: Path, facts: FakeFacts | None, expected: bool) -> None:
    assert fired(ruleset(tmp_path, FACTS, "[en]"), "Troops arrived.", facts=facts) is expected


def test_facts_are_called_once_and_only_when_terms_pass(tmp_path: Path) -> None:
    body = FACTS.replace("match:", "match:\n  - all: [a]\n    facts: {min_countries: 3}")
    rs = ruleset(tmp_path, body, "[en]")
    calls = []

    def make() -> Facts:
        calls.append(1)
        return FakeFacts()

    match(analyse("Nothing to see.", "en"), rs, make)
    assert calls == []
    match(analyse("Troops arrived.", "en"), rs, make)
    assert calls == [1]


@pytest.mark.parametrize(
    ("text", "lang", "surfaces"),
    [
        pytest.param(
            "Les troupes étrangères: déploiement.", "fr", ["troupes", "déploiement"], id="french"
        ),
        pytest.param(
            "Российские войска введены в Казахстан.", "ru", ["войска", "введены"], id="cyrillic"
        ),
        pytest.param("Ausländische Truppen — Abzug.", "de", ["Truppen", "Abzug"], id="german"),
    ],
)
def test_evidence_spans_are_original_slices(
    tmp_path: Path, text: str, lang: str, surfaces: list[str]
) -> None:
    body = """
    terms:
      t: {fr: [troupe*], ru: [войск*], de: [truppen]}
      d: {fr: [déploiement], ru: [~ввести], de: [abzug]}
    match:
      - all: [t, d]
        near: sentence
    """
    rs = ruleset(tmp_path, body, "[fr, ru, de]")
    (found,) = match(analyse(text, lang), rs)
    assert [e.surface for e in found.evidence] == surfaces
    for e in found.evidence:
        assert text[e.span.start : e.span.end] == e.surface
        assert text[e.sentence_span.start : e.sentence_span.end] == e.sentence


@pytest.mark.parametrize(
    ("text", "lang", "surfaces"),
    [
        pytest.param(
            "Войска введены. Войсками командовал генерал; ВОЙСКА ушли.",
            "ru",
            ["Войска", "Войска введены", "Войсками", "ВОЙСКА"],
            id="cyrillic-overlapping-prefix-and-phrase",
        ),
        pytest.param(
            "Die Straße: Truppen, Truppenabzug. Straße frei.",
            "de",
            ["Truppen", "Truppenabzug", "Straße frei"],
            id="german-mixed-ascii",
        ),
    ],
)
def test_evidence_spans_after_multibyte_text(
    tmp_path: Path, text: str, lang: str, surfaces: list[str]
) -> None:
    """The automaton reports byte offsets into UTF-8; every hit, including a phrase that starts
    where an earlier-reported prefix hit does, must come back as the original characters."""
    body = """
    terms:
      t: {ru: [войск*, войска введены], de: [truppen*, straße frei]}
    match:
      - any: [t]
    """
    rs = ruleset(tmp_path, body, "[ru, de]")
    (found,) = match(analyse(text, lang), rs)
    assert [e.surface for e in found.evidence] == surfaces
    for e in found.evidence:
        assert text[e.span.start : e.span.end] == e.surface


def test_empty_ruleset_matches_nothing() -> None:
    assert match(analyse("Troops.", "en"), RuleSet([])) == []


@pytest.mark.parametrize(
    ("text", "candidate"),
    [
        pytest.param("alpha only", False, id="all-of-group-missing"),
        pytest.param("alpha and beta", True, id="both-groups"),
        pytest.param("alpha and beta and xray", True, id="none-of-left-to-evaluate"),
        pytest.param("alpha alpha", False, id="one-term-twice-is-not-two-terms"),
        pytest.param("alpha aleph", True, id="min-hits-distinct-terms"),
        pytest.param("gamma one two three four beta", True, id="proximity-left-to-evaluate"),
    ],
)
def test_candidates_gate_on_groups_and_distinct_terms(
    tmp_path: Path, text: str, candidate: bool
) -> None:
    rs = ruleset(tmp_path, LOGIC, "[en]")
    assert bool(rs.candidates(analyse(text, "en"))) is candidate
