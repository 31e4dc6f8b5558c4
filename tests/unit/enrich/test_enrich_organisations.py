# ruff: noqa: E501 - test tables keep one case per line
from __future__ import annotations

import pytest

from monitor.enrich import Enricher
from monitor.text import analyse


@pytest.mark.parametrize(
    ("lang", "text", "keys"),
    [
        pytest.param("nl", "De Collectieve Veiligheidsverdragsorganisatie (CVVO) overlegt met de NAVO en de VN.", ["CSTO", "NATO", "UN"], id="nl"),
        pytest.param("en", "The CSTO, NATO and the United Nations met; the EU and the African Union too.", ["CSTO", "NATO", "UN", "EU", "AU"], id="en"),
        pytest.param("de", "Die OVKS und die NATO sprachen mit der UNO und der OSZE.", ["CSTO", "NATO", "UN", "OSCE"], id="de"),
        pytest.param("fr", "L'OTSC, l'OTAN, l'ONU et la CEDEAO se sont réunies.", ["CSTO", "NATO", "UN", "ECOWAS"], id="fr"),
        pytest.param("es", "La OTAN, la ONU y la Unión Europea condenaron al grupo Wagner.", ["NATO", "UN", "EU", "WAGNER"], id="es"),
        pytest.param("ru", "ОДКБ, НАТО, ООН, ЕС и ОБСЕ обсудили действия Вагнера.", ["CSTO", "NATO", "UN", "EU", "OSCE", "WAGNER"], id="ru"),
        pytest.param("it", "La NATO, l'ONU e l'Unione europea hanno discusso la MINUSMA.", ["NATO", "UN", "EU", "MINUSMA"], id="it"),
        pytest.param("pt", "A NATO, a ONU e a UE falaram sobre a MONUSCO.", ["NATO", "UN", "EU", "MONUSCO"], id="pt"),
        pytest.param("pl", "NATO, ONZ i Unia Europejska rozmawiały z OBWE.", ["NATO", "UN", "EU", "OSCE"], id="pl"),
        pytest.param("fr", "Un soldat et un civil ont été blessés.", [], id="fr-un-is-a-word"),
        pytest.param("pt", "Eu acho que ele vai.", [], id="pt-eu-is-a-word"),
        pytest.param("en", "WHO IS THE UN ENVOY", [], id="shouted-headline"),
        pytest.param("en", "Who knows what the un-named envoy said.", [], id="lowercase-acronyms"),
    ],
)  # fmt: skip
def test_organisations(enricher: Enricher, lang: str, text: str, keys: list[str]) -> None:
    result = enricher.analyse(analyse(text, lang))
    assert [o.key for o in result.entities.organisations] == keys
    for org in result.entities.organisations:
        assert org.name
        for m in org.mentions:
            assert text[m.span.start : m.span.end] == m.surface
