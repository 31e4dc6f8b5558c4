# ruff: noqa: E501 - test tables keep one case per line
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.article import Article
from monitor.enrich import Enricher
from monitor.enrich.language import SAMPLE_CHARS


def _article(title: str, text: str, declared: str | None) -> Article:
    return Article(
        id="a1",
        url="https://example.org/a1",
        title=title,
        text=text,
        source="test",
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
        language=declared,
    )


@pytest.mark.parametrize(
    ("title", "text", "declared", "code", "agrees"),
    [
        pytest.param("Troepen trekken zich terug", "De regering heeft dinsdag verklaard dat de soldaten het land deze week verlaten.", "nl", "nl", True, id="nl"),
        pytest.param("Troops withdraw", "The government said on Tuesday that the soldiers would leave the country this week.", "en", "en", True, id="en"),
        pytest.param("Truppen ziehen ab", "Die Regierung erklärte am Dienstag, dass die Soldaten das Land in dieser Woche verlassen.", "de", "de", True, id="de"),
        pytest.param("Les troupes se retirent", "Le gouvernement a déclaré mardi que les soldats quitteraient le pays cette semaine.", "fr", "fr", True, id="fr"),
        pytest.param("Las tropas se retiran", "El gobierno declaró el martes que los soldados abandonarán el país esta semana.", "es", "es", True, id="es"),
        pytest.param("Войска уходят", "Правительство заявило во вторник, что солдаты покинут страну на этой неделе.", "ru", "ru", True, id="ru"),
        pytest.param("Le truppe si ritirano", "Il governo ha dichiarato martedì che i soldati lasceranno il paese questa settimana.", "it", "it", True, id="it"),
        pytest.param("As tropas retiram-se", "O governo declarou na terça-feira que os soldados deixarão o país esta semana.", "pt", "pt", True, id="pt"),
        pytest.param("Wojska się wycofują", "Rząd oświadczył we wtorek, że żołnierze opuszczą kraj w tym tygodniu.", "pl", "pl", True, id="pl"),
        pytest.param("Troepen trekken zich terug", "De regering heeft dinsdag verklaard dat de soldaten het land deze week verlaten.", "en", "nl", False, id="declared-wrong"),
        pytest.param("Troops withdraw", "The government said on Tuesday that the soldiers would leave.", None, "en", None, id="undeclared"),
    ],
)  # fmt: skip
def test_detect_language(
    enricher: Enricher, title: str, text: str, declared: str | None, code: str, agrees: bool | None
) -> None:
    info = enricher.detect_language(_article(title, text, declared))
    assert info.code == code
    assert info.declared == declared
    assert info.agrees is agrees
    assert 0.5 < info.confidence <= 1.0


def test_no_letters_falls_back_to_declared(enricher: Enricher) -> None:
    info = enricher.detect_language(_article("", "2024 - 12 - 31", "de"))
    assert (info.code, info.confidence) == ("de", 0.0)


def test_only_the_lead_is_read(enricher: Enricher) -> None:
    """Detection reads a bounded prefix (title and lead): a long tail in another language,
    which would outweigh the lead if the whole text were read, does not change the answer."""
    lead = "De regering heeft dinsdag verklaard dat de soldaten het land deze week verlaten. " * 4
    tail = (
        "The government said on Tuesday that the soldiers would leave the country this week. " * 40
    )
    assert len(lead) >= SAMPLE_CHARS
    info = enricher.detect_language(_article("Troepen trekken zich terug", lead + tail, None))
    assert info.code == "nl"
    assert info.confidence > 0.5
