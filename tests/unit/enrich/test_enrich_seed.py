"""The done-criterion of the enrichment issue: the seed article (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.article import article_from_text
from monitor.enrich import Enricher, Enrichment
from monitor.text import analyse

SEED = Path("/work/shared/seeds/000_3f0d7a8a7abd1322.txt")


@pytest.fixture(scope="module")
def seed(enricher: Enricher) -> Enrichment:
    if not SEED.exists():
        pytest.fail(f"seed article missing: {SEED}")
    article = article_from_text(SEED.read_text(encoding="utf-8"), article_id="seed")
    info = enricher.detect_language(article)
    assert info.code == "nl"
    return enricher.analyse(analyse(article.body, info.code))


def test_seed_countries(seed: Enrichment) -> None:
    assert seed.location == "KZ"
    assert "RU" in seed.actors


def test_seed_people(seed: Enrichment) -> None:
    people = {p.key: p for p in seed.entities.people}
    assert people["tokaev"].role == "president"
    assert "Tokajev" in people["tokaev"].name
    assert people["putin"].role == "president"
    assert people["putin"].country == "RU"
    assert people["smailov"].role == "prime_minister"
    assert people["mamin"].role == "head_of_government"


def test_seed_organisations(seed: Enrichment) -> None:
    assert "CSTO" in seed.organisation_keys


def test_seed_figures(seed: Enrichment) -> None:
    deaths = [f for f in seed.figures if f.kind == "deaths"]
    assert [(f.value, f.qualifier) for f in deaths] == [(164, "at least")]
    assert seed.figure("troops") == 2030
    assert seed.figure("vehicles") == 250
