"""A rule set from one rule file's body, for engine tests (the header a test does not care about
is written for it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from monitor.engine import RuleSet
from monitor.ruleset import load_ruleset


def ruleset(tmp_path: Path, body: str, languages: str = "[nl, en, de, fr, ru]") -> RuleSet:
    """Load a rule ``id: rule`` with ``body`` (terms, match, ...) written below its header."""
    text = f"id: rule\ntitle: test rule\nseverity: {{base: low}}\nlanguages: {languages}\n"
    (tmp_path / "rule.yaml").write_text(text + textwrap.dedent(body), encoding="utf-8")
    return load_ruleset(tmp_path)
