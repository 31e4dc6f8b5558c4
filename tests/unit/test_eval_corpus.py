"""The labelled evaluation corpus in ``eval/corpus/`` and the sealed blind sets ``eval/heldout5/``
and ``eval/heldout6/`` keep their shape (see ``eval/README.md`` and each set's README).

Independent of the pipeline: it only reads the JSON Lines files.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

EVAL = Path(__file__).resolve().parents[2] / "eval"
CORPUS = EVAL / "corpus"
HELDOUT5 = EVAL / "heldout5"
HELDOUT6 = EVAL / "heldout6"
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


def _load(directory: Path = CORPUS) -> list[tuple[Path, dict[str, Any]]]:
    rows: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append((path, json.loads(line)))
    return rows


ROWS = _load()
ITEMS = [item for _, item in ROWS]
HELDOUT5_ROWS = _load(HELDOUT5)
HELDOUT5_ITEMS = [item for _, item in HELDOUT5_ROWS]
HELDOUT6_ROWS = _load(HELDOUT6)
HELDOUT6_ITEMS = [item for _, item in HELDOUT6_ROWS]


def _check_line(path: Path, item: dict[str, Any], min_chars: int, max_chars: int) -> None:
    assert set(item) == FIELDS
    lang = path.stem
    assert item["language"] == lang
    assert re.fullmatch(rf"{lang}-\d{{3}}", item["id"])
    for key in ("title", "text", "note"):
        assert isinstance(item[key], str) and item[key].strip()
    assert min_chars <= len(item["text"]) <= max_chars
    assert isinstance(item["labels"], list)
    assert set(item["labels"]) <= RULES
    assert len(set(item["labels"])) == len(item["labels"])
    assert item["kind"] in KINDS
    assert (item["kind"] == "positive") == bool(item["labels"])


@pytest.mark.parametrize(("path", "item"), ROWS, ids=[str(item.get("id")) for _, item in ROWS])
def test_line_schema(path: Path, item: dict[str, Any]) -> None:
    _check_line(path, item, 400, 2500)


@pytest.mark.parametrize(
    ("path", "item"), HELDOUT5_ROWS, ids=[str(item.get("id")) for _, item in HELDOUT5_ROWS]
)
def test_heldout5_line_schema(path: Path, item: dict[str, Any]) -> None:
    """A heldout5 line has the corpus fields, rule ids and kinds, an id in 981-990, and the length
    of a wire article (2,500-5,000 characters) rather than the corpus's 400-2,500."""
    _check_line(path, item, 2500, 5000)
    assert 981 <= int(item["id"].split("-")[1]) <= 990


def test_heldout5_shape() -> None:
    """heldout5 has the composition its README promises: 80 articles (10 per core language),
    about half hard negatives, every rule with at least 7 positives in at least 5 languages,
    and several multi-label articles."""
    assert len(HELDOUT5_ITEMS) == 80
    per_language = Counter(item["language"] for item in HELDOUT5_ITEMS)
    assert all(per_language[lang] == 10 for lang in CORE_LANGUAGES), per_language
    hard = sum(1 for item in HELDOUT5_ITEMS if item["kind"] == "hard_negative")
    assert 0.4 <= hard / len(HELDOUT5_ITEMS) <= 0.6
    for rule in sorted(RULES):
        positives = [item for item in HELDOUT5_ITEMS if rule in item["labels"]]
        assert len(positives) >= 7, rule
        assert len({item["language"] for item in positives}) >= 5, rule
    assert sum(1 for item in HELDOUT5_ITEMS if len(item["labels"]) >= 2) >= 4


def test_heldout5_ids_are_unique_over_all_sets() -> None:
    """No heldout5 id occurs twice in heldout5 or anywhere in another set under eval/ (scores are
    quoted by id, so an id may name only one article)."""
    counts = Counter(
        item["id"]
        for directory in sorted(EVAL.iterdir())
        if directory.is_dir()
        for _, item in _load(directory)
    )
    assert [item["id"] for item in HELDOUT5_ITEMS if counts[item["id"]] != 1] == []


@pytest.mark.parametrize(
    ("path", "item"), HELDOUT6_ROWS, ids=[str(item.get("id")) for _, item in HELDOUT6_ROWS]
)
def test_heldout6_line_schema(path: Path, item: dict[str, Any]) -> None:
    """A heldout6 line has the corpus fields, rule ids and kinds, an id in 801-810, and a length
    between a short wire flash and a long background piece (1,000-6,000 characters)."""
    _check_line(path, item, 1000, 6000)
    assert 801 <= int(item["id"].split("-")[1]) <= 810


def test_heldout6_shape() -> None:
    """heldout6 has the composition its README promises: 80 articles (10 per core language, 7/7/6
    in it/pt/pl), about half hard negatives, every rule with at least 7 positives in at least 5
    languages, several multi-label articles, and short, medium and long articles alike."""
    assert len(HELDOUT6_ITEMS) == 80
    per_language = Counter(item["language"] for item in HELDOUT6_ITEMS)
    assert all(per_language[lang] == 10 for lang in CORE_LANGUAGES), per_language
    assert (per_language["it"], per_language["pt"], per_language["pl"]) == (7, 7, 6), per_language
    hard = sum(1 for item in HELDOUT6_ITEMS if item["kind"] == "hard_negative")
    assert 0.4 <= hard / len(HELDOUT6_ITEMS) <= 0.6
    for rule in sorted(RULES):
        positives = [item for item in HELDOUT6_ITEMS if rule in item["labels"]]
        assert len(positives) >= 7, rule
        assert len({item["language"] for item in positives}) >= 5, rule
    assert sum(1 for item in HELDOUT6_ITEMS if len(item["labels"]) >= 2) >= 4
    lengths = [len(item["text"]) for item in HELDOUT6_ITEMS]
    assert sum(1 for n in lengths if n < 2000) >= 20
    assert sum(1 for n in lengths if n >= 4000) >= 20


def test_heldout6_ids_are_unique_over_all_sets() -> None:
    """No heldout6 id occurs twice in heldout6 or anywhere in another set under eval/."""
    counts = Counter(
        item["id"]
        for directory in sorted(EVAL.iterdir())
        if directory.is_dir()
        for _, item in _load(directory)
    )
    assert [item["id"] for item in HELDOUT6_ITEMS if counts[item["id"]] != 1] == []


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
