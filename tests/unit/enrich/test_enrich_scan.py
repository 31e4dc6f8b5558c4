# ruff: noqa: E501 - test tables keep one case per line
"""The shared pass over the text (``Enricher.scan``) finds what each enricher finds on its own."""

from __future__ import annotations

import random

import pytest

import monitor.enrich.surface as surface_module
from monitor.alert import Entities
from monitor.enrich import Enricher
from monitor.enrich.surface import Hit
from monitor.text import analyse


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        pytest.param("nl", "De Russische president Vladimir Poetin stuurde troepen naar Kazachstan. De CSTO steunde Smailov als nieuwe premier; de vorige premier Askar Mamin werd ontslagen.", id="nl"),
        pytest.param("en", "Russian President Vladimir Putin sent troops to Kazakhstan. The CSTO backed Alikhan Smailov, the new prime minister, after the UN met.", id="en"),
        pytest.param("de", "Der russische Präsident Wladimir Putin schickte Truppen nach Kasachstan; die OVKS und die NATO stritten über den neuen Ministerpräsidenten Smailow.", id="de"),
        pytest.param("fr", "Le président russe Vladimir Poutine a envoyé des troupes au Kazakhstan. L'OTSC soutient le nouveau Premier ministre Alikhan Smaïlov.", id="fr"),
        pytest.param("es", "El presidente ruso Vladímir Putin envió tropas a Kazajistán. La OTSC apoyó al nuevo primer ministro Alikhan Smailov.", id="es"),
        pytest.param("ru", "Президент России Владимир Путин направил войска в Казахстан. ОДКБ поддержала нового премьер-министра Алихана Смаилова.", id="ru"),
        pytest.param("it", "Il presidente russo Vladimir Putin ha inviato truppe in Kazakistan; la NATO ha incontrato il nuovo primo ministro Smailov.", id="it"),
        pytest.param("pt", "O presidente russo Vladimir Putin enviou tropas ao Cazaquistão; a NATO recebeu o novo primeiro-ministro Smailov.", id="pt"),
        pytest.param("pl", "Prezydent Rosji Władimir Putin wysłał wojska do Kazachstanu; NATO przyjęło nowego premiera Smaiłowa.", id="pl"),
        pytest.param("xx", "President Putin sent troops to Kazakhstan, the UN said.", id="unknown-language-reads-as-english"),
    ],
)  # fmt: skip
def test_one_pass_finds_what_each_enricher_finds(enricher: Enricher, lang: str, text: str) -> None:
    """``analyse`` (one automaton pass for countries, organisations, roles and status markers)
    gives the entities that the enrichers give when each scans the text itself."""
    doc = analyse(text, lang)
    assert enricher.scan(doc) is not None
    hits = enricher.countries.hits(doc)
    alone = Entities(
        countries=enricher.countries.countries(doc, hits),
        organisations=enricher.organisations.organisations(doc),
        people=enricher.people.people(doc, hits),
    )
    assert enricher.analyse(doc).entities == alone
    assert alone.countries and alone.people  # the texts do exercise the enrichers


def test_without_a_scanner_each_enricher_scans_alone() -> None:
    """A document in a language no enricher was loaded for (and no English to fall back on)
    gets no shared pass; organisations, whose aliases are not per language, are still found."""
    enricher = Enricher.load(["nl", "de"])
    doc = analyse("De NAVO en de VN spraken in Kazachstan met president Tokajev.", "fr")
    assert enricher.scan(doc) is None
    result = enricher.analyse(doc).entities
    assert [o.key for o in result.organisations] == [
        o.key for o in enricher.organisations.organisations(doc)
    ]
    assert result.organisations
    assert result.countries == () and result.people == ()


@pytest.mark.parametrize(
    ("lang", "text", "surface"),
    [
        pytest.param("en", "🚀😀 Troops in Kazakhstan, said the UN.", "Kazakhstan", id="emoji-before"),
        pytest.param("ru", "中文 и 🚀: войска в Казахстане.", "Казахстане", id="cjk-and-emoji-before-cyrillic"),
    ],
)  # fmt: skip
def test_spans_count_characters(enricher: Enricher, lang: str, text: str, surface: str) -> None:
    """Spans are character offsets into the text, also after characters that take several
    bytes in UTF-8 (the automaton runs over UTF-8; its offsets must come back as characters)."""
    (country,) = enricher.analyse(analyse(text, lang)).entities.countries
    (mention,) = country.mentions
    assert mention.surface == surface
    assert text[mention.span.start : mention.span.end] == surface


def test_capitals_check_and_overlap_resolution_match_their_plain_reading() -> None:
    """The capitals check (ASCII through ``str.upper``) and the leftmost-longest resolution
    (sorted by C-level keys, kept whole when nothing overlaps) give what the plain per-character
    and per-hit readings give, on random surfaces and random sets of hits."""
    rng = random.Random(5)
    alphabet = ["A", "b", "Z", "é", "É", "ß", "Ж", "ж", "1", "-", " ", "ǅ", "中", "ª"]
    for _ in range(5000):
        surface = "".join(
            rng.choices(alphabet[: rng.choice([6, len(alphabet)])], k=rng.randint(0, 6))
        )
        surface = surface if rng.random() < 0.5 else surface.encode("ascii", "ignore").decode()
        expected = all(not c.isalpha() or c.isupper() for c in surface)
        assert surface_module._all_caps(surface) is expected, repr(surface)
    for _ in range(3000):
        hits = []
        for _ in range(rng.randint(0, 8)):
            start = rng.randint(0, 30)
            hits.append(Hit(start, start + rng.randint(1, 6), rng.randint(0, 3)))
        ordered = sorted(hits, key=lambda h: (h.start, h.start - h.end))
        expected_hits, reach = [], -1
        for hit in ordered:
            if hit.start >= reach:
                expected_hits.append(hit)
                reach = hit.end
        assert surface_module._resolve(list(hits)) == expected_hits, hits
