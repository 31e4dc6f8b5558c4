# ruff: noqa: E501 - test tables keep one case per line
from __future__ import annotations

import pytest

from monitor.enrich import Enricher
from monitor.text import analyse

F = tuple[str, int, str | None]


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        pytest.param("nl", "Er vielen zeker 1.250 doden en tientallen gewonden; 300 betogers werden opgepakt.", [("deaths", 1250, "at least"), ("injured", 20, "dozens"), ("arrests", 300, None)], id="nl"),
        pytest.param("nl", "Meer dan 1,5 miljoen soldaten en twee tanks. Over twee dagen vertrekken ze.", [("troops", 1500000, "more than"), ("vehicles", 2, None)], id="nl-scale-and-time-unit"),
        pytest.param("en", "At least 2,030 troops and 250 vehicles arrived. Two soldiers were killed.", [("troops", 2030, "at least"), ("vehicles", 250, None), ("deaths", 2, None)], id="en"),
        pytest.param("en", "Dozens of people were injured and hundreds were arrested in 2022.", [("injured", 20, "dozens"), ("arrests", 200, "hundreds")], id="en-vague"),
        pytest.param("de", "Mindestens 2.030 Soldaten, drei Tote und etwa 40 Verletzte.", [("troops", 2030, "at least"), ("deaths", 3, None), ("injured", 40, "about")], id="de"),
        pytest.param("fr", "Au moins 2 030 soldats et des dizaines de morts ; 12 blessés.", [("troops", 2030, "at least"), ("deaths", 20, "dozens"), ("injured", 12, None)], id="fr"),
        pytest.param("es", "Al menos 1.200 muertos y más de 300 heridos; 40 detenidos.", [("deaths", 1200, "at least"), ("injured", 300, "more than"), ("arrests", 40, None)], id="es"),
        pytest.param("ru", "Не менее 2 030 военнослужащих и 250 единиц техники. Погибли 12 человек.", [("troops", 2030, "at least"), ("vehicles", 250, None), ("deaths", 12, None)], id="ru"),
        pytest.param("it", "Almeno 1.200 morti e circa 300 feriti; 40 arrestati.", [("deaths", 1200, "at least"), ("injured", 300, "about"), ("arrests", 40, None)], id="it"),
        pytest.param("pt", "Pelo menos 1.200 mortos e mais de 300 feridos; 40 detidos.", [("deaths", 1200, "at least"), ("injured", 300, "more than"), ("arrests", 40, None)], id="pt"),
        pytest.param("pl", "Co najmniej 1 200 zabitych i ponad 300 rannych; 40 zatrzymanych.", [("deaths", 1200, "at least"), ("injured", 300, "more than"), ("arrests", 40, None)], id="pl"),
        pytest.param("en", "Prices rose 30 percent in 2022 over 12 months.", [], id="en-no-counts"),
        pytest.param("en", "The B52 crashed and 12 soldiers died; F16 pilots saw 40 troops.", [("deaths", 12, None), ("troops", 40, None)], id="en-digits-inside-a-word-are-no-number"),
        pytest.param("it", "Nell'attacco ci sono stati 12 morti e dell'3 feriti.", [("deaths", 12, None), ("injured", 3, None)], id="it-number-after-an-apostrophe"),
        pytest.param("de", "Sanitäter sprachen von mindestens 20. Todesopfer gab es keine.", [], id="de-number-ends-its-sentence"),
        pytest.param("en", "Medics counted 20. Deaths were not reported.", [], id="en-number-ends-its-sentence"),
        pytest.param("nl", "Het dodental steeg naar negen. Onder de doden zijn twee agenten.", [("deaths", 9, None), ("deaths", 2, None)], id="nl-number-word-ends-its-sentence"),
    ],
)  # fmt: skip
def test_figures(enricher: Enricher, lang: str, text: str, expected: list[F]) -> None:
    figures = enricher.analyse(analyse(text, lang)).figures
    assert [(f.kind, f.value, f.qualifier) for f in figures] == expected
    for figure in figures:
        assert text[figure.span.start : figure.span.end] == figure.surface
        assert figure.surface in figure.sentence


def test_figure_is_the_highest_of_a_kind(enricher: Enricher) -> None:
    result = enricher.analyse(analyse("12 doden gisteren, 40 doden vandaag.", "nl"))
    assert result.figure("deaths") == 40
    assert result.figure("troops") is None


def test_an_abbreviated_scale_does_not_end_the_reach(enricher: Enricher) -> None:
    """The period of "tys." abbreviates the scale (thousand): the count goes on to the noun,
    while after a bare number a period ends it ("20. Deaths were ...")."""
    figures = enricher.analyse(analyse("Przybyło około 3,8 tys. żołnierzy z USA.", "pl")).figures
    assert [(f.kind, f.value) for f in figures] == [("troops", 3800)]
