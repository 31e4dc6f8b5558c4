# ruff: noqa: E501 - test tables keep one case per line
"""Genre labels before a headline or above the story, and rules that skip those genres."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.engine import match
from monitor.genres import GenreLabels, default_genre_labels
from monitor.ruleset import check
from monitor.text import analyse
from tests import rule_support


@pytest.mark.parametrize(
    ("lang", "text", "genres"),
    [
        pytest.param("en", "Opinion: Europe should put boots on the ground\n\nBy A. Writer\n\nIt won't.", {"opinion"}, id="en-title"),
        pytest.param("en", "Op-ed: Why now\n\nText of it.", {"opinion"}, id="en-hyphen"),
        pytest.param("nl", "Recensie | Zes dagen in Port of Spain\n\nEen podcast over een staatsgreep.", {"review"}, id="nl-bar"),
        pytest.param("fr", "« L'Été des marines »\n\nCritique | Par Sophie Rameau\n\nLe film suit trois personnages.", {"review"}, id="fr-furniture-line"),
        pytest.param("de", "Nachruf: Sie sah die Panzer\n\nDie Korrespondentin ist tot.", {"obituary"}, id="de"),
        pytest.param("es", "Cronología: medio siglo de golpes\n\n1973. El ejército tomó el poder.", {"timeline"}, id="es"),
        pytest.param("ru", "Мнение: миротворцы не решат проблем\n\nТекст.", {"opinion"}, id="ru"),
        pytest.param("en", "SATIRE: Golf club captain deposed\n\nA bloodless coup.", {"satire"}, id="en-capitals"),
        pytest.param("en", "Coup in Niger\n\nThe army took power. Opinion: none was asked.", set(), id="not-in-the-story"),
        pytest.param("en", "Columnists agree on little\n\nText.", set(), id="a-word-that-begins-with-a-label"),
        pytest.param("en", "Opinion polls show a lead\n\nText.", set(), id="no-separator-after-it"),
        pytest.param("en", "Analysis: why the coup matters\n\nText.", set(), id="analysis-is-not-a-genre-here"),
        pytest.param("pt", "25 de Novembro: 51 anos depois\n\nPolítica | Opinião e Análise | 25 nov 2026 | Leitura: 7 min\n\nFaz hoje 51 anos que tudo mudou.", {"opinion"}, id="pt-breadcrumb-section"),
        pytest.param("fr", "« Le Coup d'État en blouse blanche »\n\nLivres · Critique\n\nPar Leïla Ben Salem\n\nLe livre raconte une nuit.", {"review"}, id="fr-last-section"),
        pytest.param("en", "Coup in Niger | Opinion\n\nThe army took power.", {"opinion"}, id="en-title-section"),
        pytest.param("en", "Coup in Niger\n\nOpinion › Columnists\n\nThe army took power.", {"opinion"}, id="en-label-before-a-chevron"),
        pytest.param("en", "World | Africa | Opinion polls in Niger\n\nThe army took power.", set(), id="a-long-section-that-begins-with-a-label"),
        pytest.param("en", "Coup in Niger\n\nThe army took power | Opinion polls | none.", set(), id="no-section-in-the-story"),
    ],
)  # fmt: skip
def test_genres(lang: str, text: str, genres: set[str]) -> None:
    """A label counts at the start of the title or of a furniture line above the story,
    followed by a colon, a bar, a dash or a middle dot, or as a short section of such a line;
    not inside the story."""
    assert default_genre_labels().genres(analyse(text, lang)) == genres


def test_labels_are_data() -> None:
    labels = GenreLabels({"brief": ["in brief"]})
    assert labels.genres(analyse("In brief: markets\n\nText.", "en")) == {"brief"}
    assert GenreLabels({}).genres(analyse("Opinion: x\n\nText.", "en")) == frozenset()


SKIP = """
terms:
  coup: {en: [coup]}
skip_genres: [opinion]
match:
  - any: [coup]
"""


def test_a_rule_skips_its_genres_only(tmp_path: Path) -> None:
    rules = rule_support.ruleset(tmp_path, SKIP, languages="[en]")
    assert match(analyse("Opinion: the coup was a mistake\n\nText.", "en"), rules) == []
    assert len(match(analyse("Review: a film on the coup\n\nText.", "en"), rules)) == 1
    assert len(match(analyse("Coup in Niger\n\nText.", "en"), rules)) == 1


def test_an_unknown_genre_is_reported_at_its_line(tmp_path: Path) -> None:
    body = (
        "id: rule\ntitle: test rule\nseverity: {base: low}\nlanguages: [en]\n"
        "terms:\n  coup: {en: [coup]}\nskip_genres: [opinion, gossip]\nmatch:\n  - any: [coup]\n"
    )
    (tmp_path / "rule.yaml").write_text(body, encoding="utf-8")
    found = [f"{e.line}: {e.message}" for e in check(tmp_path, cache_dir=None)]
    assert len(found) == 1 and found[0].startswith("7: unknown genre 'gossip'"), found
