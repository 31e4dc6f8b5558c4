"""A rules folder for the end-to-end benchmark: the real ``rules/*.yaml`` plus synthetic rules.

The synthetic rules come from ``bench/match.py``'s generator (random "topic" words, 3-8 phrases
in 1-3 groups, any-of with two distinct terms or all-of with proximity) and are written as YAML
files that the worker loads like any other rule. Their terms are listed under ``common`` so they
apply to articles in every language; ``newsfeed`` sprinkles a few topic words into the articles,
so the presearch sees hits of synthetic rules too (a rule rarely fires: it needs two of its own
words out of a 20,000-word vocabulary).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Sequence
from pathlib import Path

import yaml

from bench.match import make_rules, vocabulary
from monitor.rule import Rule

REPO = Path(__file__).resolve().parent.parent
REAL_RULES = REPO / "rules"
LANGUAGES = ("nl", "en", "de", "fr", "es", "ru")
TOPIC_WORDS = 20_000


def topic_words(seed: int) -> list[str]:
    """The vocabulary the synthetic rules draw their phrases from (deterministic per seed)."""
    return vocabulary(random.Random(seed), TOPIC_WORDS)


def rule_yaml(rule: Rule, languages: Sequence[str] = LANGUAGES) -> str:
    """One synthetic rule in the format of ``docs/rules.md``."""
    terms: dict[str, dict[str, list[str]]] = {}
    for group in rule.groups:
        # the generator may draw a word twice; a group lists each phrase once
        phrases = list(dict.fromkeys(t.text for t in group.terms))
        terms[group.name] = {"common": phrases}
    clauses = []
    for clause in rule.clauses:
        written: dict[str, object] = {}
        if clause.all:
            written["all"] = list(clause.all)
        if clause.any:
            written["any"] = list(clause.any)
        if clause.min_hits > 1:
            written["min_hits"] = clause.min_hits
        if clause.near is not None:
            written["near"] = clause.near
        clauses.append(written)
    document = {
        "id": rule.id,
        "title": rule.title,
        "severity": {"base": rule.severity.base},
        "languages": list(languages),
        "terms": terms,
        "match": clauses,
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def write_rules(target: Path, total: int, topic: Sequence[str], seed: int) -> int:
    """Copy the real rules into ``target`` and add synthetic ones up to ``total`` rules;
    returns the number of synthetic rules written."""
    target.mkdir(parents=True, exist_ok=True)
    real = sorted(REAL_RULES.glob("*.yaml"))
    for path in real:
        shutil.copy(path, target / path.name)
    synthetic = max(0, total - len(real))
    for rule in make_rules(random.Random(seed), topic, synthetic):
        (target / f"{rule.id}.yaml").write_text(rule_yaml(rule))
    return synthetic
