"""The labelled evaluation corpus in ``eval/corpus/`` and the sealed blind sets ``eval/heldout5/``
and ``eval/heldout6/`` keep their shape (see ``eval/README.md`` and each set's README).

Independent of the pipeline: it only reads the JSON Lines files.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EVAL = Path(__file__).resolve().parents[2] / "eval"
CORPUS = EVAL / "corpus"
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


@dataclass(frozen=True)
class Sealed:
    """What a sealed set's README promises about its shape."""

    name: str
    ids: range
    chars: tuple[int, int]  # min and max length of a text
    minor_languages: tuple[int, int, int]  # articles in it, pt, pl
    # at least this many texts under 2,000 and at or over 4,000 characters
    short_and_long: int = 0

    @property
    def rows(self) -> list[tuple[Path, dict[str, Any]]]:
        return _load(EVAL / self.name)


SEALED = (
    # wire articles of 2,500-5,000 characters
    Sealed("heldout5", range(981, 991), (2500, 5000), (7, 7, 6)),
    # from a short wire flash to a long background piece
    Sealed("heldout6", range(801, 811), (1000, 6000), (7, 7, 6), short_and_long=20),
    # other regions and styles, events stated indirectly, actors named by adjective or institution
    Sealed("heldout7", range(701, 711), (1000, 6000), (7, 7, 6), short_and_long=20),
    # radio scripts, digests, flashes and updates, scene reports, court and inquiry pieces
    Sealed("heldout8", range(601, 611), (1000, 6000), (7, 7, 6), short_and_long=20),
    # live blogs, Q&A explainers, communiqués, interviews, local outlets, corrections, newsletters
    Sealed("heldout9", range(501, 511), (1000, 6000), (7, 7, 6), short_and_long=20),
    # analyses, market and culture pages, diaspora and NGO notes, urgent+update, factboxes
    Sealed("heldout10", range(401, 411), (1000, 6000), (7, 7, 6), short_and_long=20),
    # advisories, travel notices, business wires, transcripts, minutes, obituaries, reader Q&A
    Sealed("heldout11", range(301, 311), (1000, 6000), (7, 7, 6), short_and_long=20),
    # plain wire copy, trade press, local TV and regional papers, parliament, roundups, long-reads
    Sealed("heldout12", range(201, 211), (1000, 6000), (7, 7, 6), short_and_long=20),
    # wire copy and briefs, features, analyses, reviews, regional papers, broadcaster websites
    Sealed("heldout13", range(101, 111), (1000, 6000), (7, 7, 6), short_and_long=20),
    # real-looking news-site articles with scraper debris, live blogs, broadcaster sites
    Sealed("heldout14", range(111, 121), (1000, 6000), (7, 7, 6), short_and_long=20),
    # scraped news pages with debris, explainers, comments, TV and radio sites, wide regions
    Sealed("heldout16", range(131, 141), (1000, 6000), (7, 7, 6), short_and_long=20),
    # news-site articles with scraper debris, other regions (Andes, Gulf, Great Lakes, Baltic...)
    Sealed("heldout15", range(121, 131), (1000, 6000), (7, 7, 6), short_and_long=20),
    # scraped news pages with top-of-page furniture, other regions (Central America, Levant...)
    Sealed("heldout17", range(141, 151), (1000, 6000), (7, 7, 6), short_and_long=20),
    # plain news articles with modest furniture, briefs and updates, Horn, Great Lakes, Maghreb...
    Sealed("heldout18", range(151, 161), (1000, 6000), (7, 7, 6), short_and_long=20),
    # plain news articles, briefs, follow-ups and features, Pacific, Gulf, Sahel coast, Caribbean...
    Sealed("heldout19", range(161, 171), (1000, 6000), (7, 7, 6), short_and_long=20),
    # plain news, briefs, quote-led and day-after stories, Central Asia, Caribbean, Indian Ocean
    Sealed("heldout20", range(171, 181), (1000, 6000), (7, 7, 6), short_and_long=20),
)
SEALED_ROWS = [(spec, path, item) for spec in SEALED for path, item in spec.rows]


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
    ("spec", "path", "item"),
    SEALED_ROWS,
    ids=[f"{spec.name}-{item.get('id')}" for spec, _, item in SEALED_ROWS],
)
def test_sealed_line_schema(spec: Sealed, path: Path, item: dict[str, Any]) -> None:
    """A line of a sealed set has the corpus fields, rule ids and kinds, an id in the set's own
    range and the set's own lengths (its articles are longer than the corpus's 400-2,500)."""
    _check_line(path, item, *spec.chars)
    assert int(item["id"].split("-")[1]) in spec.ids


@pytest.mark.parametrize("spec", SEALED, ids=[spec.name for spec in SEALED])
def test_sealed_shape(spec: Sealed) -> None:
    """A sealed set has the composition its README promises: 80 articles (10 per core language,
    the rest in it/pt/pl), about half hard negatives, every rule with at least 7 positives in at
    least 5 languages, several multi-label articles, and short and long articles where promised."""
    items = [item for _, item in spec.rows]
    assert len(items) == 80
    per_language = Counter(item["language"] for item in items)
    assert all(per_language[lang] == 10 for lang in CORE_LANGUAGES), per_language
    minor = (per_language["it"], per_language["pt"], per_language["pl"])
    assert minor == spec.minor_languages, per_language
    hard = sum(1 for item in items if item["kind"] == "hard_negative")
    assert 0.4 <= hard / len(items) <= 0.6
    for rule in sorted(RULES):
        positives = [item for item in items if rule in item["labels"]]
        assert len(positives) >= 7, rule
        assert len({item["language"] for item in positives}) >= 5, rule
    assert sum(1 for item in items if len(item["labels"]) >= 2) >= 4
    lengths = [len(item["text"]) for item in items]
    assert sum(1 for n in lengths if n < 2000) >= spec.short_and_long
    assert sum(1 for n in lengths if n >= 4000) >= spec.short_and_long


@pytest.mark.parametrize("spec", SEALED, ids=[spec.name for spec in SEALED])
def test_sealed_ids_are_unique_over_all_sets(spec: Sealed) -> None:
    """No id of a sealed set occurs twice in it or anywhere in another set under eval/ (scores are
    quoted by id, so an id may name only one article)."""
    counts = Counter(
        item["id"]
        for directory in sorted(EVAL.iterdir())
        if directory.is_dir()
        for _, item in _load(directory)
    )
    assert [item["id"] for _, item in spec.rows if counts[item["id"]] != 1] == []


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
