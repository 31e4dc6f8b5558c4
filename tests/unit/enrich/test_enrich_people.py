# ruff: noqa: E501 - test tables keep one case per line
from __future__ import annotations

import pytest

from monitor.enrich import Enricher, name_key
from monitor.text import analyse


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        pytest.param(["Tokajev", "Tokayev", "Tokaïev", "Tokajew", "Токаев", "Kassym-Jomart Tokajev"], "tokaev", id="tokayev"),
        pytest.param(["Poetin", "Putin", "Poutine", "Путин", "Vladimir Poetin"], "putin", id="putin"),
        pytest.param(["Zelensky", "Zelenskyy", "Selenskyj", "Zełenski", "Зеленский"], "selenski", id="zelensky"),
        pytest.param(["Shoigu", "Sjojgoe", "Schoigu", "Choïgou", "Szojgu", "Шойгу"], "soigu", id="shoigu"),
        pytest.param(["Lukashenko", "Loekasjenko", "Loukachenko", "Lukaschenko", "Лукашенко"], "lukasenko", id="lukashenko"),
        pytest.param(["Smailov", "Smaïlov", "Smaiłow", "Смаилов"], "smailov", id="smailov"),
    ],
)  # fmt: skip
def test_name_key_groups_spellings(spellings: list[str], key: str) -> None:
    assert {name_key(s) for s in spellings} == {key}


def test_name_key_keeps_people_apart() -> None:
    assert len({name_key(n) for n in ["Putin", "Tokayev", "Mamin", "Macron", "Lavrov"]}) == 5


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        pytest.param("nl", "De Russische president Vladimir Poetin sprak met premier Smailov.", [("putin", "Vladimir Poetin", "president", "RU"), ("smailov", "Smailov", "prime_minister", None)], id="nl"),
        pytest.param("nl", "Het parlement steunde Alikhan Smailov als nieuwe premier.", [("smailov", "Alikhan Smailov", "prime_minister", None)], id="nl-name-als-role"),
        pytest.param("en", "Alikhan Smailov, the new prime minister, met Prime Minister Rishi Sunak.", [("smailov", "Alikhan Smailov", "prime_minister", None), ("sunak", "Rishi Sunak", "prime_minister", None)], id="en"),
        pytest.param("de", "Der russische Präsident Wladimir Putin traf Premierminister Smailow.", [("putin", "Wladimir Putin", "president", "RU"), ("smailov", "Smailow", "prime_minister", None)], id="de"),
        pytest.param("fr", "Le président Kassym-Jomart Tokaïev a reçu le Premier ministre Alikhan Smaïlov.", [("tokaev", "Kassym-Jomart Tokaïev", "president", None), ("smailov", "Alikhan Smaïlov", "prime_minister", None)], id="fr"),
        pytest.param("es", "El presidente Kassim-Yomart Tokáyev habló con el primer ministro Smailov.", [("tokaev", "Kassim-Yomart Tokáyev", "president", None), ("smailov", "Smailov", "prime_minister", None)], id="es"),
        pytest.param("ru", "Президент России Владимир Путин позвонил президенту Токаеву. Токаев поблагодарил.", [("putin", "Владимир Путин", "president", "RU"), ("tokaevu", "Токаеву", "president", None)], id="ru"),
        pytest.param("it", "Il presidente Sergio Mattarella ha incontrato il ministro Antonio Tajani.", [("matarela", "Sergio Mattarella", "president", None), ("tani", "Antonio Tajani", "minister", None)], id="it"),
        pytest.param("pt", "O presidente Lula da Silva recebeu o primeiro-ministro António Costa.", [("silva", "Lula da Silva", "president", None), ("kosta", "António Costa", "prime_minister", None)], id="pt"),
        pytest.param("pl", "Prezydent Andrzej Duda spotkał się z premierem Donaldem Tuskiem.", [("duda", "Andrzej Duda", "president", None), ("tuskiem", "Donaldem Tuskiem", "prime_minister", None)], id="pl"),
        pytest.param("en", "However, the president said nothing.", [], id="en-capitalised-word-is-no-name"),
        pytest.param("de", "Das sagte der Präsident Journalisten am Montag.", [], id="de-noun-is-no-name"),
    ],
)  # fmt: skip
def test_people(
    enricher: Enricher,
    lang: str,
    text: str,
    expected: list[tuple[str, str, str, str | None]],
) -> None:
    people = enricher.analyse(analyse(text, lang)).entities.people
    assert [(p.key, p.name, p.role, p.country) for p in people] == expected
    for person in people:
        for m in person.mentions:
            assert text[m.span.start : m.span.end] == m.surface


def test_bare_surname_mentions_are_added(enricher: Enricher) -> None:
    text = "President Tokayev spoke. Later Tokayev left."
    (person,) = enricher.analyse(analyse(text, "en")).entities.people
    assert [m.span.start for m in person.mentions] == [10, 31]
