"""The labelled evaluation corpus in ``eval/corpus/`` keeps its shape (see ``eval/README.md``).

Independent of the pipeline: it only reads the JSON Lines files.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "corpus"
RULES = {
    "foreign_troop_deployment",
    "government_dismissal",
    "deadly_unrest",
    "coup_attempt",
    "state_of_emergency",
}
CORE_LANGUAGES = ("nl", "en", "de", "fr", "es", "ru")
KINDS = {"positive", "hard_negative", "negative"}
FIELDS = {"id", "language", "title", "text", "labels", "kind", "note"}


def _load() -> list[tuple[Path, dict[str, Any]]]:
    rows: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append((path, json.loads(line)))
    return rows


ROWS = _load()
ITEMS = [item for _, item in ROWS]


@pytest.mark.parametrize(("path", "item"), ROWS, ids=[str(item.get("id")) for _, item in ROWS])
def test_line_schema(path: Path, item: dict[str, Any]) -> None:
    assert set(item) == FIELDS
    lang = path.stem
    assert item["language"] == lang
    assert re.fullmatch(rf"{lang}-\d{{3}}", item["id"])
    for key in ("title", "text", "note"):
        assert isinstance(item[key], str) and item[key].strip()
    assert 400 <= len(item["text"]) <= 2500
    assert isinstance(item["labels"], list)
    assert set(item["labels"]) <= RULES
    assert len(set(item["labels"])) == len(item["labels"])
    assert item["kind"] in KINDS
    assert (item["kind"] == "positive") == bool(item["labels"])


def test_ids_are_unique() -> None:
    duplicates = [i for i, n in Counter(item["id"] for item in ITEMS).items() if n > 1]
    assert duplicates == []


def test_size_and_share_of_hard_negatives() -> None:
    assert len(ITEMS) >= 120
    hard = sum(1 for item in ITEMS if item["kind"] == "hard_negative")
    assert hard * 3 >= len(ITEMS)


@pytest.mark.parametrize("lang", CORE_LANGUAGES)
def test_each_core_language_has_enough_texts(lang: str) -> None:
    assert sum(1 for item in ITEMS if item["language"] == lang) >= 25


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("lang", CORE_LANGUAGES)
def test_each_rule_has_positives_in_each_core_language(rule: str, lang: str) -> None:
    positives = [i for i in ITEMS if i["language"] == lang and rule in i["labels"]]
    assert len(positives) >= 3, f"{rule} x {lang}: {len(positives)} positives"
