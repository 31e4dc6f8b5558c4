"""The presearch gate and the scan text: fast paths that must not change what matches."""

from __future__ import annotations

import random
import re

import pytest

from monitor.engine import RuleSet, _LazyFacts, match
from monitor.rule import Clause, Group, Rule, SeverityPolicy, Term
from monitor.text import analyse

WORDS = [f"w{i}x" for i in range(40)]


def random_rule(rng: random.Random, index: int) -> Rule:
    """1-3 groups of 1-4 terms from a small vocabulary, so rules share keys, repeat a key in two
    groups, and need one, two or several keys to pass."""
    group_count = rng.randint(1, 3)
    names = [f"g{i}" for i in range(group_count)]
    groups = []
    for name in names:
        terms = []
        for _ in range(rng.randint(1, 4)):
            word = rng.choice(WORDS)
            if rng.random() < 0.2:
                terms.append(Term(word[:3] + "*", "en", "prefix", word[:3]))
            else:
                terms.append(Term(word, "en", "exact", word))
        groups.append(Group(name, tuple(terms)))
    clauses = []
    for c in range(rng.randint(1, 2)):
        if rng.random() < 0.5:
            clauses.append(Clause(name=f"c{c}", any=tuple(names), min_hits=rng.randint(1, 3)))
        else:
            clauses.append(Clause(name=f"c{c}", all=tuple(rng.sample(names, min(2, group_count)))))
    return Rule(
        id=f"r{index}",
        title=f"rule {index}",
        severity=SeverityPolicy("low"),
        groups=tuple(groups),
        clauses=tuple(clauses),
        languages=("en",),
    )


@pytest.mark.parametrize("seed", range(5))
def test_gate_drops_only_rules_that_cannot_fire(seed: int) -> None:
    """Every rule with a hit, evaluated without the gate, fires exactly where ``match`` (which
    evaluates only the rules passing the gate) says it does, with the same evidence."""
    rng = random.Random(seed)
    rs = RuleSet([random_rule(rng, i) for i in range(200)])
    checked = 0
    for _ in range(60):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) + "."
        doc = analyse(text, "en")
        everything = []
        for rule_index, hits in sorted(rs.hits(doc).items()):
            found = rs.evaluate(rule_index, hits, doc, _LazyFacts(None))
            if found is not None:
                everything.append(found)
        assert match(doc, rs) == everything, text
        checked += len(everything)
    assert checked > 0  # the random rules do fire: the comparison is not between empty lists


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Troops, (tanks) & 3.5% of_all 'units'!\n\nNext\tline", id="ascii"),
        pytest.param("Truppen — «Panzer» in Köln, 3½ Tage_lang", id="non-ascii"),
    ],
)
def test_scan_text_makes_every_non_word_character_a_space(text: str) -> None:
    """The scan text is the folded text between two spaces with every character that is not a
    letter or digit (underscores included) made a space, on the ASCII fast path as well."""
    rs = RuleSet([random_rule(random.Random(0), 0)])
    doc = analyse(text, "en")
    scan, _ = rs._scan(doc)
    assert scan.decode() == " " + re.sub(r"[^\w ]|_", " ", doc.folded) + " "
