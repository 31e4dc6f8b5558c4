# ruff: noqa: E501 - test tables keep one case per line
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.enrich import Enricher
from monitor.enrich.countries import CountryFinder
from monitor.errors import ConfigError
from monitor.text import analyse


@pytest.mark.parametrize(
    ("lang", "text", "location", "actors", "surfaces"),
    [
        pytest.param("nl", "Russische troepen zijn in Kazachstan aangekomen. De Russen blijven in Kazachstan.", "KZ", {"RU"}, {"Russische", "Kazachstan", "Russen"}, id="nl"),
        pytest.param("en", "Russian troops arrived in Kazakhstan on Monday. The Kazakh government thanked Russia.", "KZ", {"RU", "KZ"}, {"Russian", "Kazakhstan", "Kazakh", "Russia"}, id="en"),
        pytest.param("de", "Russische Truppen sind in Kasachstan eingetroffen. Russlands Armee bleibt in Kasachstan.", "KZ", {"RU"}, {"Russische", "Kasachstan", "Russlands"}, id="de-genitive"),
        pytest.param("fr", "Des soldats russes sont arrivés au Kazakhstan. La Russie reste au Kazakhstan.", "KZ", {"RU"}, {"russes", "Kazakhstan", "Russie"}, id="fr"),
        pytest.param("es", "Tropas rusas llegaron a Malí. Las fuerzas rusas se quedan en Malí.", "ML", {"RU"}, {"rusas", "Malí"}, id="es"),
        pytest.param("ru", "Российские военные прибыли в Казахстан. Россия направила войска в Казахстане.", "KZ", {"RU"}, {"Российские", "Казахстан", "Россия", "Казахстане"}, id="ru-cases"),
        pytest.param("it", "Soldati russi sono arrivati in Kazakistan. La Russia resta in Kazakistan.", "KZ", {"RU"}, {"russi", "Kazakistan", "Russia"}, id="it"),
        pytest.param("pt", "Soldados russos chegaram ao Cazaquistão. A Rússia fica no Cazaquistão.", "KZ", {"RU"}, {"russos", "Cazaquistão", "Rússia"}, id="pt"),
        pytest.param("pl", "Rosyjscy żołnierze przybyli do Kazachstanu. Rosja zostaje w Kazachstanie.", "KZ", {"RU"}, {"Rosyjscy", "Kazachstanu", "Rosja", "Kazachstanie"}, id="pl-cases"),
        pytest.param("en", "Protesters gathered in the capital of Mali.", "ML", set(), {"Mali"}, id="single"),
        pytest.param("en", "Nothing about any country here.", None, set(), set(), id="none"),
    ],
)  # fmt: skip
def test_countries(
    enricher: Enricher,
    lang: str,
    text: str,
    location: str | None,
    actors: set[str],
    surfaces: set[str],
) -> None:
    result = enricher.analyse(analyse(text, lang))
    assert result.location == location
    assert result.actors == actors
    found = {m.surface for c in result.entities.countries for m in c.mentions}
    assert found == surfaces
    for country in result.entities.countries:
        for m in country.mentions:
            assert text[m.span.start : m.span.end] == m.surface


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        pytest.param("en", "Let us go; the us of it.", id="en-us-lowercase"),
        pytest.param("ru", "Из-за того что он ушёл.", id="ru-togo-lowercase"),
        pytest.param("en", "He ate a turkey sandwich with chile sauce.", id="en-common-nouns"),
        pytest.param("es", "Un rusoamericano vive allí.", id="no-partial-word"),
    ],
)
def test_countries_not_found(enricher: Enricher, lang: str, text: str) -> None:
    assert enricher.analyse(analyse(text, lang)).countries == frozenset()


def test_longest_form_wins(enricher: Enricher) -> None:
    result = enricher.analyse(analyse("Geweld in Zuid-Soedan.", "nl"))
    assert result.countries == {"SS"}


_SAME_IN_EVERY_PROCESS = """
from monitor.enrich.countries import CountryFinder
from monitor.text import analyse
finder = CountryFinder.load(["ru", "pl"])
for lang, text in [("ru", "Войска прибыли в Нигер. Президент Нигера заявил."), ("pl", "Niger ogłosił.")]:
    print(lang, [h.code for h in finder.hits(analyse(text, lang))])
"""


def test_a_form_two_countries_share_goes_to_the_same_country_in_every_process() -> None:
    """Nigeria's derived stem in Russian and Polish is Niger's name. Which one such a form goes to
    must not depend on the hash seed, or two workers would put one article in two countries:
    three processes with different seeds agree, and the form goes to Niger, whose name it is."""
    answers = {
        subprocess.run(
            [sys.executable, "-c", _SAME_IN_EVERY_PROCESS],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert answers == {"ru ['NE', 'NE']\npl ['NE']\n"}


def test_country_mentions_are_placed_in_text_order(enricher: Enricher) -> None:
    """`Enrichment.country_mentions` gives every mention's code and start offset, in text order
    (what the engine's `foreign_actor: sentence` reads)."""
    text = "Kenyan troops landed in Somalia. Kenya said Somalia asked."
    result = enricher.analyse(analyse(text, "en"))
    assert result.country_mentions == (
        ("KE", text.index("Kenyan")),
        ("SO", text.index("Somalia")),
        ("KE", text.index("Kenya said")),
        ("SO", text.rindex("Somalia")),
    )


def test_country_names_leave_out_places(enricher: Enricher) -> None:
    """`Enrichment.country_names` (where the engine's `destination_after` looks) keeps the
    mentions by name, adjective or demonym and leaves out cities: Goma names Congo as a place,
    "Congo" names it as a country."""
    text = "Burundian soldiers arrived in Goma. Congo thanked them."
    result = enricher.analyse(analyse(text, "en"))
    assert ("CD", text.index("Goma")) in result.country_mentions
    assert result.country_names == (("BI", 0), ("CD", text.index("Congo")))


@pytest.mark.parametrize(
    ("lang", "text", "surface", "code"),
    [
        pytest.param("nl", "Guatemalteekse militairen zijn in Port-au-Prince geland.", "Guatemalteekse", "GT", id="nl-guatemalteekse"),
        pytest.param("nl", "De Burundese soldaten trokken zich terug.", "Burundese", "BI", id="nl-burundese"),
        pytest.param("en", "Ugandan soldiers arrived on Monday.", "Ugandan", "UG", id="en-ugandan"),
        pytest.param("en", "The Kenyan contingent landed at dawn.", "Kenyan", "KE", id="en-kenyan-contingent"),
        pytest.param("de", "Die brasilianischen Soldaten kehrten heim.", "brasilianischen", "BR", id="de-brasilianischen"),
        pytest.param("de", "Rund 300 rumänische Soldaten wurden verlegt.", "rumänische", "RO", id="de-rumänische"),
        pytest.param("fr", "Les soldats sénégalaises et burundais sont arrivés.", "sénégalaises", "SN", id="fr-sénégalaises"),
        pytest.param("fr", "Des militaires ougandais ont été déployés.", "ougandais", "UG", id="fr-ougandais"),
        pytest.param("es", "Los soldados guatemaltecos aterrizaron el miércoles.", "guatemaltecos", "GT", id="es-guatemaltecos"),
        pytest.param("es", "Llegaron las tropas ruandesas al norte.", "ruandesas", "RW", id="es-ruandesas"),
        pytest.param("ru", "Турецкие военные прибыли утром.", "Турецкие", "TR", id="ru-турецкие"),
        pytest.param("ru", "Около 200 бразильских военных прибыли утром.", "бразильских", "BR", id="ru-бразильских"),
        pytest.param("it", "I soldati brasiliani sono arrivati ieri.", "brasiliani", "BR", id="it-brasiliani"),
        pytest.param("it", "Sono partiti i militari kenioti.", "kenioti", "KE", id="it-kenioti"),
        pytest.param("pt", "Os soldados brasileiros chegaram ontem.", "brasileiros", "BR", id="pt-brasileiros"),
        pytest.param("pt", "As tropas ruandesas chegaram ontem.", "ruandesas", "RW", id="pt-ruandesas"),
        pytest.param("pl", "Polscy żołnierze wrócili do domu.", "Polscy", "PL", id="pl-polscy"),
        pytest.param("pl", "Niemieccy żołnierze przybyli w poniedziałek.", "Niemieccy", "DE", id="pl-niemieccy"),
        pytest.param("pl", "Rumuńscy żołnierze przybyli w poniedziałek.", "Rumuńscy", "RO", id="pl-rumuńscy"),
    ],
)  # fmt: skip
def test_inflected_nationality_adjectives(
    enricher: Enricher, lang: str, text: str, surface: str, code: str
) -> None:
    """An inflected adjective or demonym is found, as written, with its country's code
    (`countries.yaml` stems, and the Polish -scy/-ccy plurals `stem_plurals` derives)."""
    result = enricher.analyse(analyse(text, lang))
    found = {(m.surface, c.code) for c in result.entities.countries for m in c.mentions}
    assert (surface, code) in found, found


def test_stem_plurals_must_be_a_mapping(tmp_path: Path) -> None:
    """A `stem_plurals` that is not a mapping of endings is a ConfigError naming the setting."""
    (tmp_path / "countries.yaml").write_text("languages:\n  pl:\n    stem_plurals: [sk, scy]\n")
    with pytest.raises(ConfigError, match="stem_plurals"):
        CountryFinder.load(["pl"], tmp_path)


def test_location_tie_goes_to_the_country_named_after_a_locative(enricher: Enricher) -> None:
    """Equal scores go to the country named after "in/into" (where it happens), not to the
    sender named first as a subject and an adjective."""
    text = (
        "Chad flies troops into the Central African Republic.\n\n"
        "The first 200 Chadian soldiers were flown into Bangui on Thursday."
    )
    result = enricher.analyse(analyse(text, "en"))
    assert result.location == "CF"
    assert "TD" in result.actors


@pytest.mark.parametrize(
    ("lang", "text", "place", "location", "sender"),
    [
        pytest.param("nl", "Rwandese militairen zijn in Goma aangekomen.", "Goma", "CD", "RW", id="nl-goma"),
        pytest.param("en", "Kenyan troops arrived in Mogadishu on Monday.", "Mogadishu", "SO", "KE", id="en-mogadishu"),
        pytest.param("de", "Türkische Soldaten sind im Nordirak eingetroffen.", "Nordirak", "IQ", "TR", id="de-nordirak"),
        pytest.param("de", "Kenianische Soldaten sind in Mogadischu gelandet.", "Mogadischu", "SO", "KE", id="de-cldr-mogadischu"),
        pytest.param("fr", "Des soldats rwandais sont arrivés à Goma.", "Goma", "CD", "RW", id="fr-à-goma"),
        pytest.param("es", "Tropas ruandesas fueron desplegadas en Cabo Delgado.", "Cabo Delgado", "MZ", "RW", id="es-cabo-delgado"),
        pytest.param("it", "Soldati russi sono arrivati a Kidal.", "Kidal", "ML", "RU", id="it-a-kidal"),
        pytest.param("pt", "Soldados ruandeses estão em Cabo Delgado desde julho.", "Cabo Delgado", "MZ", "RW", id="pt-cabo-delgado"),
        pytest.param("ru", "Российские военные прибыли в Донецк.", "Донецк", "UA", "RU", id="ru-донецк"),
        pytest.param("pl", "Rosyjscy żołnierze przybyli do Doniecka.", "Doniecka", "UA", "RU", id="pl-do-doniecka"),
    ],
)  # fmt: skip
def test_a_place_makes_its_country_the_location(
    enricher: Enricher, lang: str, text: str, place: str, location: str, sender: str
) -> None:
    """A city or region (CLDR's exemplar cities or `places.yaml`, inflected where the language
    inflects) names its country: that country becomes the location, found with the place's
    surface form, and the country named by its adjective stays a foreign actor."""
    result = enricher.analyse(analyse(text, lang))
    assert result.location == location
    assert result.actors == {sender}
    found = {(m.surface, c.code) for c in result.entities.countries for m in c.mentions}
    assert (place, location) in found, found


def test_kenyan_troops_in_mogadishu_are_foreign() -> None:
    """The case the places were added for: Kenyan troops in Mogadishu, Somalia never named.
    Without the place, Kenya was the only country and so the location (a home deployment)."""
    text = (
        "Kenyan troops land in Mogadishu\n\n"
        "Some 400 Kenyan soldiers arrived in Mogadishu on Tuesday to reinforce the African Union "
        "mission. The contingent will move on to Baidoa next week."
    )
    result = Enricher.load(["en"]).analyse(analyse(text, "en"))
    assert result.location == "SO"
    assert "KE" in result.actors
    assert "SO" not in result.actors
    somalia = next(c for c in result.entities.countries if c.code == "SO")
    assert [m.surface for m in somalia.mentions] == ["Mogadishu", "Mogadishu", "Baidoa"]


def test_a_country_only_a_place_names_has_no_role_and_is_not_named_as_an_actor(
    enricher: Enricher,
) -> None:
    """A place says where, not who: Rwanda, named only by Kigali (no actor cue near it), is
    mentioned without a role, and `country_mentions` (what `foreign_actor: sentence` reads)
    leaves it out; a capital next to an actor cue ("Moscow sent") makes its country an actor."""
    text = "Burundian soldiers arrived in Goma. Refugees crossed to Kigali."
    result = enricher.analyse(analyse(text, "en"))
    roles = {c.code: c.roles for c in result.entities.countries}
    assert roles == {"CD": ("location",), "BI": ("actor",), "RW": ()}
    assert {code for code, _ in result.country_mentions} == {"CD", "BI"}

    sent = enricher.analyse(analyse("Moscow sent troops into Kazakhstan.", "en"))
    assert sent.location == "KZ"
    assert sent.actors == {"RU"}


def test_a_country_only_a_city_or_region_names_has_no_role(enricher: Enricher) -> None:
    """The same holds for the places of places.yaml, not only for capitals: Congo, named only by
    Goma (a place weighing as much as a name), gets no role and is no actor (it was an actor
    while a place was told from a name by its weight alone)."""
    text = "Burundian soldiers arrived in Sudan. Refugees crossed to Goma."
    result = enricher.analyse(analyse(text, "en"))
    roles = {c.code: c.roles for c in result.entities.countries}
    assert roles == {"SD": ("location",), "BI": ("actor",), "CD": ()}
    assert {code for code, _ in result.country_mentions} == {"SD", "BI"}


def test_capitals_count_half_toward_the_location(enricher: Enricher) -> None:
    """A capital stands for its government as often as for the place (a dateline, "said in
    Moscow"), so its mentions count half: Sudan, named once after "in", beats Moscow's dateline
    and "in Moscow"; the same two mentions as Russia's name would win."""
    text = "MOSCOW - Instructors are in Sudan, a spokesman said in Moscow."
    result = enricher.analyse(analyse(text, "en"))
    assert result.location == "SD"
    named = "RUSSIA - Instructors are in Sudan, a spokesman said in Russia."
    assert enricher.analyse(analyse(named, "en")).location == "RU"


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        pytest.param("es", "Compró una goma de borrar.", id="es-goma-lowercase"),
        pytest.param("it", "Il nome del paese è cambiato.", id="it-nome-skipped-zone"),
        pytest.param("en", "Sofia and Regina met Darwin.", id="en-names-skipped-zones"),
        pytest.param("en", "Hearings at Chatham House on Canary Wharf.", id="en-skipped-zones"),
        pytest.param("en", "President Davis met Palmer and Casey.", id="en-antarctic-stations"),
        pytest.param("ru", "Военные учения прошли на Дальнем Востоке.", id="ru-vostok-is-the-east"),
        pytest.param("es", "Antigua sede del ministerio, hoy un museo.", id="es-antigua-old"),
    ],
)
def test_places_that_are_words_or_names_are_not_found(
    enricher: Enricher, lang: str, text: str
) -> None:
    """Place forms need a capital in the text (*goma* is rubber), and the CLDR cities that are
    words or people's names elsewhere are left out by `places.yaml`'s skip list."""
    assert enricher.analyse(analyse(text, lang)).countries == frozenset()


def test_places_are_data_a_user_file_extends_and_skips(tmp_path: Path) -> None:
    """`places.yaml` in the extra data directory adds places and skips CLDR cities (no code
    change), and an unknown ISO code there is a ConfigError naming the file."""
    (tmp_path / "places.yaml").write_text(
        "cldr_cities:\n  skip: [Africa/Mogadishu]\nplaces:\n  NL:\n    all: [Zwolle]\n"
    )
    finder = CountryFinder.load(["en"], tmp_path)
    doc = analyse("Protests in Zwolle and in Mogadishu.", "en")
    assert [(h.code, doc.text[h.start : h.end]) for h in finder.hits(doc)] == [("NL", "Zwolle")]

    (tmp_path / "places.yaml").write_text("places:\n  QQ:\n    all: [Nowhere]\n")
    with pytest.raises(ConfigError, match=r"places\.yaml.*QQ"):
        CountryFinder.load(["en"], tmp_path)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        pytest.param("es", "Reunión de urgencia del gabinete.", id="es-reunion-a-meeting"),
        pytest.param("pt", "Reunião do conselho de ministros.", id="pt-reuniao-a-meeting"),
        pytest.param("it", "Riunione del consiglio dei ministri.", id="it-riunione-a-meeting"),
        pytest.param("fr", "Dominique Lefèvre, porte-parole, a démenti.", id="fr-dominique-a-name"),
        pytest.param("pl", "Dominika Nowak, rzeczniczka, zaprzeczyła.", id="pl-dominika-a-name"),
        pytest.param(
            "es", "La Alhambra de Granada recibió a los turistas.", id="es-granada-in-spain"
        ),
    ],
)
def test_cldr_names_that_are_words_there_are_not_found(
    enricher: Enricher, lang: str, text: str
) -> None:
    """A CLDR country name that is an everyday word or a first name in a language (``not_names``
    in `countries.yaml`) is no mention there, as a name nor as a city of the same spelling; a
    sentence starting with "Reunión" made Réunion an actor of any Spanish article."""
    assert enricher.analyse(analyse(text, lang)).countries == frozenset()


def test_not_names_are_per_language(enricher: Enricher) -> None:
    """Leaving out "Reunión" in Spanish leaves Réunion's name in other languages, and Russian
    keeps "Того" (indeclinable: "в Того" is how the news names Togo; the pronoun "того" is lower
    case but at a sentence's start)."""
    assert enricher.analyse(analyse("Troops landed on Réunion.", "en")).countries == {"RE"}
    assert enricher.analyse(analyse("Военные прибыли в Того.", "ru")).countries == {"TG"}


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        pytest.param("de", "160 Soldaten gehen nach Bosnien.", id="de"),
        pytest.param("nl", "Militairen vertrekken naar Bosnië.", id="nl"),
        pytest.param("en", "Troops leave for Bosnia.", id="en"),
        pytest.param("fr", "Des soldats partent pour la Bosnie.", id="fr"),
        pytest.param("ru", "Военные отправились в Боснию.", id="ru"),
        pytest.param("pl", "Żołnierze wyjechali do Bośni.", id="pl"),
    ],
)
def test_bosnia_is_named_without_herzegovina(enricher: Enricher, lang: str, text: str) -> None:
    """CLDR names only "Bosnia and Herzegovina": the short name the news uses is data."""
    assert enricher.analyse(analyse(text, lang)).countries == {"BA"}


def test_a_territory_belongs_to_its_state(enricher: Enricher) -> None:
    """The alert names the territory; the facts the engine asks take its state for it, so French
    gendarmes sent to New Caledonia stay at home (the engine's foreign test uses ``home``)."""
    text = (
        "Paris envoie 1 000 gendarmes en Nouvelle-Calédonie\n\n"
        "Les renforts français sont arrivés mardi à Nouméa après trois nuits d'émeutes."
    )
    result = enricher.analyse(analyse(text, "fr"))
    assert result.location == "NC"
    assert "FR" in result.actors
    assert result.home("NC") == "FR"
    assert result.home("FR") == "FR"
    assert result.home("KZ") == "KZ"


def test_territories_are_checked_codes(tmp_path: Path) -> None:
    """An unknown code among the territories, or a territory given two states, is a ConfigError
    naming the setting."""
    (tmp_path / "countries.yaml").write_text("territories:\n  FR: [QQ]\n")
    with pytest.raises(ConfigError, match=r"territories\.FR.*QQ"):
        CountryFinder.load(["en"], tmp_path)
    (tmp_path / "countries.yaml").write_text("territories:\n  FR: [YT]\n  GB: [YT]\n")
    with pytest.raises(ConfigError, match="YT already belongs to FR"):
        CountryFinder.load(["en"], tmp_path)
