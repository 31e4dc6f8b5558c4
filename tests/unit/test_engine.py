# ruff: noqa: E501 - test tables keep one case per line
"""The engine, table-driven: folding, wildcards, lemmas, boundaries, logic, proximity, facts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.alert import Figure, Span
from monitor.engine import Facts, RelatedLists, RuleSet, match
from monitor.text import analyse, fold
from tests.rule_support import ruleset


def fired(rs: RuleSet, text: str, lang: str = "en", facts: Facts | None = None) -> bool:
    make: Callable[[], Facts] | None = (lambda: facts) if facts is not None else None
    return bool(match(analyse(text, lang), rs, make))


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        pytest.param("Déploiement", "deploiement", id="french-accents"),
        pytest.param("Ausländische TRUPPEN", "auslandische truppen", id="german-umlaut-case"),
        pytest.param("Ёлка Москва", "елка москва", id="cyrillic-yo"),
        pytest.param("España", "españa", id="spanish-enye-kept"),
        pytest.param("l’armée", "l'armee", id="typographic-apostrophe"),
    ],
)
def test_fold_is_length_preserving(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert len(fold(text)) == len(text)


TERMS = """
terms:
  t:
    en: [troop*, peace keeping, soldiers]
    nl: [~soldaat, ~inroepen, troep*]
    de: [truppen]
    fr: [déploiement]
    ru: [войск*, ~ввести]
match:
  - any: [t]
"""


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        pytest.param("Troops arrived.", "en", True, id="prefix-plural"),
        pytest.param("The troopship sailed.", "en", True, id="prefix-continues"),
        pytest.param("Paratroops arrived.", "en", False, id="no-match-inside-word"),
        pytest.param("Peace  keeping", "en", False, id="phrase-needs-single-space"),
        pytest.param("PEACE KEEPING missions", "en", True, id="phrase-case-folded"),
        pytest.param("peace-keeping missions", "en", True, id="hyphen-is-a-boundary"),
        pytest.param("soldiersX", "en", False, id="exact-needs-word-end"),
        pytest.param("De soldaten kwamen.", "nl", True, id="lemma-plural"),
        pytest.param("De hulp werd ingeroepen.", "nl", True, id="lemma-participle"),
        pytest.param("De troepenmacht vertrekt.", "nl", True, id="nl-prefix-compound"),
        pytest.param("Die Truppen ziehen ab.", "de", True, id="de-exact"),
        pytest.param("le DEPLOIEMENT des forces", "fr", True, id="diacritics-folded"),
        pytest.param("Введены войска.", "ru", True, id="cyrillic-prefix-and-lemma"),
        pytest.param("Troops arrived.", "nl", False, id="other-language-terms-ignored"),
        pytest.param("Troops arrived.", "xx", True, id="unknown-language-uses-all"),
    ],
)
def test_terms(tmp_path: Path, text: str, lang: str, expected: bool) -> None:
    assert fired(ruleset(tmp_path, TERMS), text, lang) is expected


LOGIC = """
terms:
  a: {en: [alpha, aleph]}
  b: {en: [beta]}
  c: {en: [gamma]}
  x: {en: [xray]}
match:
  - name: both
    all: [a, b]
    none: [x]
  - name: two alphas
    any: [a]
    min_hits: 2
  - name: gamma near beta
    all: [c, b]
    near: 3
"""


@pytest.mark.parametrize(
    ("text", "clause"),
    [
        pytest.param("alpha and beta", "both: all(a, b) none(x)", id="all-of"),
        pytest.param("alpha and beta and xray", None, id="none-of-blocks"),
        pytest.param("alpha alpha", None, id="min-hits-counts-distinct-terms"),
        pytest.param("alpha aleph", "two alphas: any(a) min_hits 2", id="min-hits"),
        pytest.param("gamma one two beta", "gamma near beta: all(c, b) within 3 tokens", id="near"),
        pytest.param("gamma one two three four beta", None, id="too-far"),
        pytest.param("nothing here", None, id="no-hit"),
    ],
)
def test_logic(tmp_path: Path, text: str, clause: str | None) -> None:
    found = match(analyse(text, "en"), ruleset(tmp_path, LOGIC, "[en]"))
    assert [m.clause for m in found] == ([clause] if clause else [])


SENTENCE = """
terms:
  a: {en: [troops]}
  b: {en: [sent]}
  drill: {en: [exercise]}
ignore_sentences_with: [drill]
match:
  - all: [a, b]
    near: sentence
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Troops were sent in.", True, id="same-sentence"),
        pytest.param("Troops are ready. Nobody was sent.", False, id="different-sentences"),
        pytest.param("Troops were sent for an exercise.", False, id="false-friend-in-sentence"),
        pytest.param("Troops were sent in. The exercise ended.", True, id="false-friend-elsewhere"),
    ],
)
def test_sentence_scope(tmp_path: Path, text: str, expected: bool) -> None:
    assert fired(ruleset(tmp_path, SENTENCE, "[en]"), text) is expected


@dataclass
class FakeFacts:
    countries: frozenset[str] = frozenset()
    location: str | None = None
    actors: frozenset[str] = frozenset()
    figures: dict[str, int] = field(default_factory=dict)

    def figure(self, kind: str) -> int | None:
        return self.figures.get(kind)


FACTS = """
terms:
  a: {en: [troops]}
match:
  - all: [a]
    facts: {min_countries: 2, foreign_actor: true, figures: {deaths: 10}}
"""


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(None, False, id="no-facts-is-false"),
        pytest.param(
            FakeFacts(frozenset({"RU", "KZ"}), "KZ", frozenset({"RU"}), {"deaths": 164}),
            True,
            id="all-hold",
        ),
        pytest.param(
            FakeFacts(frozenset({"KZ"}), "KZ", frozenset({"RU"}), {"deaths": 164}),
            False,
            id="one-country",
        ),
        pytest.param(
            FakeFacts(frozenset({"RU", "KZ"}), "KZ", frozenset({"KZ"}), {"deaths": 164}),
            False,
            id="troops-at-home",
        ),
        pytest.param(
            FakeFacts(frozenset({"RU", "KZ"}), None, frozenset({"RU"}), {"deaths": 164}),
            False,
            id="unknown-location",
        ),
        pytest.param(
            FakeFacts(frozenset({"RU", "KZ"}), "KZ", frozenset({"RU"}), {"deaths": 9}),
            False,
            id="too-few-deaths",
        ),
    ],
)
def test_fact_conditions(tmp_path: Path, facts: FakeFacts | None, expected: bool) -> None:
    assert fired(ruleset(tmp_path, FACTS, "[en]"), "Troops arrived.", facts=facts) is expected


def test_facts_are_called_once_and_only_when_terms_pass(tmp_path: Path) -> None:
    body = FACTS.replace("match:", "match:\n  - all: [a]\n    facts: {min_countries: 3}")
    rs = ruleset(tmp_path, body, "[en]")
    calls = []

    def make() -> Facts:
        calls.append(1)
        return FakeFacts()

    match(analyse("Nothing to see.", "en"), rs, make)
    assert calls == []
    match(analyse("Troops arrived.", "en"), rs, make)
    assert calls == [1]


@pytest.mark.parametrize(
    ("text", "lang", "surfaces"),
    [
        pytest.param(
            "Les troupes étrangères: déploiement.", "fr", ["troupes", "déploiement"], id="french"
        ),
        pytest.param(
            "Российские войска введены в Казахстан.", "ru", ["войска", "введены"], id="cyrillic"
        ),
        pytest.param("Ausländische Truppen — Abzug.", "de", ["Truppen", "Abzug"], id="german"),
    ],
)
def test_evidence_spans_are_original_slices(
    tmp_path: Path, text: str, lang: str, surfaces: list[str]
) -> None:
    body = """
    terms:
      t: {fr: [troupe*], ru: [войск*], de: [truppen]}
      d: {fr: [déploiement], ru: [~ввести], de: [abzug]}
    match:
      - all: [t, d]
        near: sentence
    """
    rs = ruleset(tmp_path, body, "[fr, ru, de]")
    (found,) = match(analyse(text, lang), rs)
    assert [e.surface for e in found.evidence] == surfaces
    for e in found.evidence:
        assert text[e.span.start : e.span.end] == e.surface
        assert text[e.sentence_span.start : e.sentence_span.end] == e.sentence


@pytest.mark.parametrize(
    ("text", "lang", "surfaces"),
    [
        pytest.param(
            "Войска введены. Войсками командовал генерал; ВОЙСКА ушли.",
            "ru",
            ["Войска", "Войска введены", "Войсками", "ВОЙСКА"],
            id="cyrillic-overlapping-prefix-and-phrase",
        ),
        pytest.param(
            "Die Straße: Truppen, Truppenabzug. Straße frei.",
            "de",
            ["Truppen", "Truppenabzug", "Straße frei"],
            id="german-mixed-ascii",
        ),
    ],
)
def test_evidence_spans_after_multibyte_text(
    tmp_path: Path, text: str, lang: str, surfaces: list[str]
) -> None:
    """The automaton reports byte offsets into UTF-8; every hit, including a phrase that starts
    where an earlier-reported prefix hit does, must come back as the original characters."""
    body = """
    terms:
      t: {ru: [войск*, войска введены], de: [truppen*, straße frei]}
    match:
      - any: [t]
    """
    rs = ruleset(tmp_path, body, "[ru, de]")
    (found,) = match(analyse(text, lang), rs)
    assert [e.surface for e in found.evidence] == surfaces
    for e in found.evidence:
        assert text[e.span.start : e.span.end] == e.surface


def test_empty_ruleset_matches_nothing() -> None:
    assert match(analyse("Troops.", "en"), RuleSet([])) == []


@pytest.mark.parametrize(
    ("text", "candidate"),
    [
        pytest.param("alpha only", False, id="all-of-group-missing"),
        pytest.param("alpha and beta", True, id="both-groups"),
        pytest.param("alpha and beta and xray", True, id="none-of-left-to-evaluate"),
        pytest.param("alpha alpha", False, id="one-term-twice-is-not-two-terms"),
        pytest.param("alpha aleph", True, id="min-hits-distinct-terms"),
        pytest.param("gamma one two three four beta", True, id="proximity-left-to-evaluate"),
    ],
)
def test_candidates_gate_on_groups_and_distinct_terms(
    tmp_path: Path, text: str, candidate: bool
) -> None:
    rs = ruleset(tmp_path, LOGIC, "[en]")
    assert bool(rs.candidates(analyse(text, "en"))) is candidate


LEAD = """
terms:
  a: {en: [coup]}
  b: {en: [army]}
  later: {en: [trial]}
lead_sentences: 2
match:
  - all: [a, b]
    near: sentence
    in: lead
    none: [later]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Army stages coup\n\nTanks rolled in. It was calm.", True, id="in-title"),
        pytest.param(
            "Capital calm\n\nShops opened. Then the army staged a coup. It was calm.",
            True,
            id="second-lead-sentence",
        ),
        pytest.param(
            "Capital calm\n\nShops opened. Buses ran. The army staged a coup in 1991.",
            False,
            id="after-the-lead",
        ),
        pytest.param(
            "Shops opened. Buses ran. The army staged a coup.", True, id="no-title-first-sentence"
        ),
        pytest.param(
            "Shops opened. Buses ran. Trams ran. The army staged a coup.",
            False,
            id="no-title-beyond-lead",
        ),
        pytest.param(
            "Army stages coup\n\nTanks rolled in.\n\nA trial over the last one opened.",
            False,
            id="none-of-sees-the-whole-article",
        ),
        pytest.param(
            "Capital calm\n\nPublished 25 November, updated 16:40\n\nBy our correspondent\n\n"
            "Shops opened. Then the army staged a coup. It was calm.",
            True,
            id="page-furniture-before-the-story-does-not-count",
        ),
        pytest.param(
            "Capital calm\n\nShops opened.\n\nWhat happened\n\nThe army staged a coup.",
            False,
            id="a-subheading-after-the-story-starts-counts",
        ),
    ],
)
def test_clause_in_lead(tmp_path: Path, text: str, expected: bool) -> None:
    """`in: lead` counts the all/any hits of the title and the first N sentences after it only,
    while its none-of groups still see the whole article. Lines without terminal punctuation
    before the first sentence of prose (a scraped page's timestamp, byline) are not sentences of
    the lead; after it, every sentence counts."""
    assert fired(ruleset(tmp_path, LEAD, "[en]"), text) is expected


SCENE = (
    "Night in the capital\n\nSmoke rose. Glass lay on the street. A man swept. A woman wept.\n\n"
)


@pytest.mark.parametrize(
    ("text", "after_scene", "expected"),
    [
        pytest.param(SCENE + "Calm came. The army staged a coup.", True, True, id="nut-graf"),
        pytest.param(SCENE + "Calm came. The army staged a coup.", False, False, id="plain-count"),
        pytest.param(
            SCENE + "Calm came. Buses ran. Trams ran. The army staged a coup.",
            True,
            False,
            id="beyond-the-nut-graf",
        ),
        pytest.param(
            "Night in the capital\n\nSmoke rose. Glass lay on the street. A man swept. The army"
            " staged a coup.",
            True,
            False,
            id="one-paragraph-keeps-the-count",
        ),
    ],
)
def test_lead_after_scene(tmp_path: Path, text: str, after_scene: bool, expected: bool) -> None:
    """`lead_after_scene`: a first paragraph longer than `lead_sentences` is a scene, and the
    lead runs `lead_sentences` sentences into the paragraph after it; a text of one paragraph
    keeps the plain count."""
    body = LEAD + f"lead_after_scene: {str(after_scene).lower()}\n"
    assert fired(ruleset(tmp_path, body, "[en]"), text) is expected


VETO = """
terms:
  a: {en: [troops]}
  b: {en: [arrive*]}
  drill: {en: [exercise, drill, manoeuvres]}
ignore_sentences_with: [drill]
veto:
  - any: [drill]
    min_hits: 2
match:
  - all: [a, b]
    near: sentence
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Troops arrived in Poland.", True, id="no-exercise"),
        pytest.param(
            "Troops arrived in Poland. The exercise starts Monday.", True, id="one-stray-mention"
        ),
        pytest.param(
            "Troops arrived in Poland. The exercise starts Monday. The drill ends in May.",
            False,
            id="two-distinct-words-anywhere",
        ),
        pytest.param(
            "Troops arrived in Poland. The exercise starts Monday, and the exercise ends soon.",
            True,
            id="one-word-twice-is-one-term",
        ),
        pytest.param(
            "Troops arrived in Poland. Exercise and drill in one ignored sentence.",
            False,
            id="veto-sees-ignored-sentences",
        ),
    ],
)
def test_article_wide_veto_with_min_hits(tmp_path: Path, text: str, expected: bool) -> None:
    """A veto counts distinct terms anywhere, also in sentences `ignore_sentences_with` drops."""
    assert fired(ruleset(tmp_path, VETO, "[en]"), text) is expected


RELATED = """
terms:
  a: {en: [coup], fr: [coup d'état], ru: [переворот*], nl: [staatsgreep]}
match:
  - any: [a]
"""


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        pytest.param(
            "Calm day\n\nShops opened.\n\nRead more:\n- Coup in Niger", "en", False, id="en-list"
        ),
        pytest.param(
            "Calm day\n\nShops opened.\n\nRelated: Coup in Niger", "en", False, id="en-same-line"
        ),
        pytest.param(
            "Calm\n\nÀ lire aussi :\n- Niger : un coup d'État déjoué\n",
            "fr",
            False,
            id="fr-space-before-colon",
        ),
        pytest.param(
            "Спокойно\n\nЧитайте также:\n\n- Переворот в Нигере",
            "ru",
            False,
            id="ru-blank-line-in-list",
        ),
        pytest.param(
            "Calm day\n\nRead more:\n- Markets up\n\nThe army staged a coup on Monday, it said.",
            "en",
            True,
            id="prose-after-the-list-counts",
        ),
        pytest.param(
            "Calm day\n\nShops opened.\n\nMost read\nCoup in Niger\nMarkets up",
            "en",
            False,
            id="en-most-read-box",
        ),
        pytest.param(
            "Rustige dag\n\nWinkels open.\n\nMeest gelezen:\n- Staatsgreep in Niger",
            "nl",
            False,
            id="nl-meest-gelezen",
        ),
        pytest.param(
            "Staatsgreep in Niger\n\nMeest gelezen:\n- Markten stijgen",
            "nl",
            True,
            id="nl-the-story-above-the-box-counts",
        ),
        pytest.param("Related coup talks failed", "en", True, id="marker-needs-a-colon-or-eol"),
        pytest.param("The coup, read more: nothing", "en", True, id="marker-not-at-line-start"),
    ],
)
def test_related_lists_do_not_fire(tmp_path: Path, text: str, lang: str, expected: bool) -> None:
    """Hits in a related-headline list (packaged markers, any language) do not count; prose
    after the list and a marker word inside a sentence do."""
    assert fired(ruleset(tmp_path, RELATED, "[en, fr, ru, nl]"), text, lang) is expected


def test_related_list_markers_are_data(tmp_path: Path) -> None:
    """The markers come from the RuleSet's `RelatedLists`: with none, the list's hits count."""
    rules = ruleset(tmp_path, RELATED, "[en, fr, ru, nl]").rules
    text = "Calm day\n\nRead more:\n- Coup in Niger"
    assert fired(RuleSet(rules, related_lists=RelatedLists(["read more"])), text) is False
    assert fired(RuleSet(rules, related_lists=RelatedLists([])), text) is True


@dataclass
class PlacedFacts:
    """Enrichment-like facts whose figures carry their offsets."""

    figures: tuple[Figure, ...]
    countries: frozenset[str] = frozenset()
    location: str | None = None
    actors: frozenset[str] = frozenset()

    def figure(self, kind: str) -> int | None:
        return max((f.value for f in self.figures if f.kind == kind), default=None)


def _deaths(text: str, surface: str, value: int) -> Figure:
    start = text.index(surface)
    return Figure(
        kind="deaths",
        value=value,
        surface=surface,
        span=Span(start, start + len(surface)),
        sentence="",
    )


FIGURE_SENTENCE = """
terms:
  unrest: {en: [protest*, riot*]}
match:
  - any: [unrest]
    facts: {figures: {deaths: 1}, figure_sentence_with: [unrest]}
"""


@pytest.mark.parametrize(
    ("text", "surface", "expected"),
    [
        pytest.param(
            "Riots spread. Four protesters were shot.",
            "Four protesters",
            True,
            id="figure-beside-unrest",
        ),
        pytest.param(
            "Protests spread. A bus crash left 16 people dead.",
            "16 people",
            False,
            id="figure-in-another-sentence",
        ),
    ],
)
def test_figure_tied_to_its_sentence(
    tmp_path: Path, text: str, surface: str, expected: bool
) -> None:
    """`figure_sentence_with` needs a figure whose own sentence has a hit of the named groups."""
    facts = PlacedFacts((_deaths(text, surface, 4),))
    assert fired(ruleset(tmp_path, FIGURE_SENTENCE, "[en]"), text, facts=facts) is expected


def test_figure_sentence_with_stated_facts_counts_anywhere(tmp_path: Path) -> None:
    """Facts that cannot place their figures (a rule test's stated facts) count anywhere."""
    rs = ruleset(tmp_path, FIGURE_SENTENCE, "[en]")
    text = "Protests spread. A bus crash left 16 people dead."
    assert fired(rs, text, facts=FakeFacts(figures={"deaths": 16})) is True
    assert fired(rs, text, facts=FakeFacts(figures={"deaths": 0})) is False


@dataclass
class MentionFacts:
    """Enrichment-like facts whose country mentions carry their offsets (``country_mentions``)."""

    country_mentions: tuple[tuple[str, int], ...]
    location: str | None
    countries: frozenset[str] = frozenset()
    actors: frozenset[str] = frozenset()

    def figure(self, kind: str) -> int | None:
        return None


def _mentions(text: str, location: str, surfaces: dict[str, str]) -> MentionFacts:
    """Facts naming each surface (its first occurrence in ``text``) as the country given."""
    placed = tuple(sorted((code, text.index(s)) for s, code in surfaces.items()))
    codes = frozenset(surfaces.values())
    return MentionFacts(placed, location, codes, codes - {location})


LANGS = "[en, nl, es, ru, de, fr]"
FOREIGN_IN_SENTENCE = """
terms:
  troops: {en: [troops], nl: [militairen], es: [soldados], ru: [военные], de: [soldaten], fr: [soldats]}
  deploy: {en: [landed, deployed], nl: [geland, gestuurd], es: [llegaron, enviados], ru: [прибыли, направлены], de: [gelandet, geschickt], fr: [arrivés, déployés]}
match:
  - all: [troops, deploy]
    near: sentence
    facts: {foreign_actor: sentence}
"""


@pytest.mark.parametrize(
    ("lang", "text", "location", "surfaces", "expected"),
    [
        pytest.param("en", "Kenyan troops landed in Mogadishu on Monday. Somalia thanked them.", "SO", {"Kenyan": "KE", "Somalia": "SO"}, True, id="en-adjective-in-sentence"),
        pytest.param("en", "Somali troops were deployed in Mogadishu on Monday. Kenya closed its border.", "SO", {"Somali": "SO", "Kenya": "KE"}, False, id="en-home-foreign-elsewhere"),
        pytest.param("nl", "Keniaanse militairen zijn maandag in Haïti geland.", "HT", {"Keniaanse": "KE", "Haïti": "HT"}, True, id="nl-adjective-in-sentence"),
        pytest.param("nl", "Haïtiaanse militairen zijn naar de hoofdstad gestuurd. Kenia stuurt later agenten.", "HT", {"Haïtiaanse": "HT", "Kenia": "KE"}, False, id="nl-home-foreign-elsewhere"),
        pytest.param("es", "Los soldados guatemaltecos llegaron el miércoles a Haití.", "HT", {"guatemaltecos": "GT", "Haití": "HT"}, True, id="es-adjective-in-sentence"),
        pytest.param("es", "Miles de soldados fueron enviados a las calles de Haití. México cerró la frontera.", "HT", {"Haití": "HT", "México": "MX"}, False, id="es-home-foreign-elsewhere"),
        pytest.param("ru", "Турецкие военные прибыли в Ливию.", "LY", {"Турецкие": "TR", "Ливию": "LY"}, True, id="ru-adjective-in-sentence"),
        pytest.param("ru", "В Ливии военные направлены на охрану портов. Турция молчит.", "LY", {"Ливии": "LY", "Турция": "TR"}, False, id="ru-home-foreign-elsewhere"),
        pytest.param("de", "Die Soldaten wurden nach Bayern geschickt. Auch in Österreich stiegen die Pegel.", "DE", {"Bayern": "DE", "Österreich": "AT"}, False, id="de-home-foreign-elsewhere"),
        pytest.param("fr", "Des soldats rwandais sont arrivés au Mozambique.", "MZ", {"rwandais": "RW", "Mozambique": "MZ"}, True, id="fr-adjective-in-sentence"),
    ],
)  # fmt: skip
def test_foreign_actor_in_the_matched_sentence(
    tmp_path: Path, lang: str, text: str, location: str, surfaces: dict[str, str], expected: bool
) -> None:
    """`foreign_actor: sentence` holds only when a sentence of the clause's hits names a country
    other than the location; a foreign country named in another sentence does not count."""
    rs = ruleset(tmp_path, FOREIGN_IN_SENTENCE, LANGS)
    assert fired(rs, text, lang, _mentions(text, location, surfaces)) is expected


def test_foreign_actor_true_still_counts_the_whole_article(tmp_path: Path) -> None:
    """`foreign_actor: true` keeps its article-wide meaning: the home deployment that
    `sentence` rejects (the foreign country is in another sentence) passes it."""
    text = "Somali troops were deployed in Mogadishu on Monday. Kenya closed its border."
    facts = _mentions(text, "SO", {"Somali": "SO", "Kenya": "KE"})
    body = FOREIGN_IN_SENTENCE.replace("foreign_actor: sentence", "foreign_actor: true")
    assert fired(ruleset(tmp_path, body, LANGS), text, facts=facts) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Troops landed in Mogadishu. A first for Kenya.\n\nSomalia said so.", True, id="title-sentence-counts"),
        pytest.param("Troops landed in Mogadishu. A first for Kenya. Somalia said so.", False, id="no-title-other-sentence"),
        pytest.param("Kenya in Somalia.\n\nThe first troops landed in Mogadishu on Monday.", True, id="title-names-the-sender-body-the-act"),
        pytest.param("Clashes in Mogadishu.\n\nThe first troops landed on Monday. Kenya said so.", False, id="sender-in-a-later-body-sentence"),
    ],
)  # fmt: skip
def test_foreign_actor_sentence_also_reads_the_title(
    tmp_path: Path, text: str, expected: bool
) -> None:
    """The title counts as well as the hits' sentences (every sentence of the title paragraph;
    without a blank line only the first sentence is the title); other sentences do not."""
    surfaces = {"Kenya": "KE", "Somalia": "SO"} if "Somalia" in text else {"Kenya": "KE"}
    facts = _mentions(text, "SO", surfaces)
    assert fired(ruleset(tmp_path, FOREIGN_IN_SENTENCE, LANGS), text, facts=facts) is expected


def test_foreign_actor_sentence_with_stated_facts_counts_anywhere(tmp_path: Path) -> None:
    """Facts that cannot place their mentions (a rule test's stated facts) are read as for
    `true`: an actor other than the location, wherever it is named."""
    rs = ruleset(tmp_path, FOREIGN_IN_SENTENCE, LANGS)
    text = "Troops landed in Mogadishu."
    foreign = FakeFacts(frozenset({"KE", "SO"}), "SO", frozenset({"KE"}))
    home = FakeFacts(frozenset({"SO"}), "SO", frozenset({"SO"}))
    assert fired(rs, text, facts=foreign) is True
    assert fired(rs, text, facts=home) is False


SEPARABLE = """
terms:
  declare: {nl: [~uitroepen], de: [~zurücktreten]}
  what: {nl: [noodtoestand], de: [premier]}
match:
  - all: [declare, what]
    near: sentence
"""


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        pytest.param("De regering roept de noodtoestand uit.", "nl", True, id="split"),
        pytest.param("De regering riep gisteren de noodtoestand uit.", "nl", True, id="split-past"),
        pytest.param("De regering heeft de noodtoestand uitgeroepen.", "nl", True, id="joined"),
        pytest.param(
            "De regering roept op tot kalmte in de noodtoestand. Uit angst bleef men thuis.",
            "nl",
            False,
            id="particle-in-the-next-sentence",
        ),
        pytest.param(
            "Uit de hoofdstad roept men om hulp in de noodtoestand.",
            "nl",
            False,
            id="particle-before-the-verb",
        ),
        pytest.param("Der Premier tritt nach der Wahl zurück.", "de", True, id="split-de"),
        pytest.param("Der Premier tritt heute in Berlin auf.", "de", False, id="other-particle"),
    ],
)
def test_separable_verb_split_in_a_main_clause(
    tmp_path: Path, text: str, lang: str, expected: bool
) -> None:
    """A lemma term of a Dutch or German separable verb also matches its finite form when its
    particle follows later in the same sentence ("roept ... uit"), as main clauses put it."""
    assert fired(ruleset(tmp_path, SEPARABLE, "[nl, de]"), text, lang) is expected


DESTINATION = """
terms:
  troops: {en: [soldiers], es: [soldados]}
  depart_for: {en: [leave for, head to], es: [parten hacia]}
match:
  - all: [troops, depart_for]
    near: sentence
    facts: {destination_after: [depart_for]}
"""


@pytest.mark.parametrize(
    ("lang", "text", "surfaces", "expected"),
    [
        pytest.param("en", "Tidworth soldiers leave for Estonia on Monday.", {"Estonia": "EE"}, True, id="country-after-the-verb"),
        pytest.param("es", "Los soldados de la brigada parten hacia Letonia desde Vigo.", {"Letonia": "LV"}, True, id="es"),
        pytest.param("en", "Soldiers leave for the border, Estonia's defence ministry said.", {"Estonia": "EE"}, False, id="country-too-far"),
        pytest.param("en", "Soldiers leave for the capital. Estonia is calm.", {"Estonia": "EE"}, False, id="country-in-the-next-sentence"),
        pytest.param("en", "Mexican soldiers head to Mexico's north.", {"Mexican": "MX", "Mexico": "MX"}, False, id="their-own-country"),
        pytest.param("en", "Estonian soldiers head to Latvia.", {"Estonian": "EE", "Latvia": "LV"}, True, id="another-country"),
    ],
)  # fmt: skip
def test_destination_after(
    tmp_path: Path, lang: str, text: str, surfaces: dict[str, str], expected: bool
) -> None:
    """`destination_after`: a country named right after a departure ("leave for Estonia") makes
    the troops foreign there, unless the sentence names that country before, as theirs."""
    facts = _mentions(text, next(iter(surfaces.values())), surfaces)
    assert fired(ruleset(tmp_path, DESTINATION, "[en, es]"), text, lang, facts) is expected


@dataclass
class NamedFacts(MentionFacts):
    """Facts that also tell mentions by name from mentions by a city (``country_names``)."""

    country_names: tuple[tuple[str, int], ...] = ()


def test_destination_after_needs_a_country_name_not_a_city(tmp_path: Path) -> None:
    """A city after "leave for" names its country as a place, not as a destination: home
    troops leaving for the capital are not foreign there."""
    rs = ruleset(tmp_path, DESTINATION, "[en, es]")
    city = "Soldiers leave for Lisbon on Monday."
    at = city.index("Lisbon")
    facts = NamedFacts((("PT", at),), "PT", frozenset({"PT"}), country_names=())
    assert fired(rs, city, "en", facts) is False
    country = "Soldiers leave for Portugal on Monday."
    at = country.index("Portugal")
    facts = NamedFacts((("PT", at),), "PT", frozenset({"PT"}), country_names=(("PT", at),))
    assert fired(rs, country, "en", facts) is True


FOLDED_TWINS = """
terms:
  troops: {pt: [soldados]}
  sent: {pt: [partiram]}
  exercise: {pt: [exercício*, exercicio*, manobra*]}
veto:
  - any: [exercise]
    min_hits: 2
match:
  - all: [troops, sent]
    near: sentence
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Os soldados partiram. Haverá exercícios no próximo ano.", True, id="one-word-two-spellings"),
        pytest.param("Os soldados partiram. Exercícios e manobras no próximo ano.", False, id="two-words"),
    ],
)  # fmt: skip
def test_distinct_terms_are_counted_once_folded(tmp_path: Path, text: str, expected: bool) -> None:
    """`min_hits` counts distinct terms as folded: "exercício*" and "exercicio*" are one term,
    so one word they both match does not reach a `min_hits: 2` veto."""
    assert fired(ruleset(tmp_path, FOLDED_TWINS, "[pt]"), text, "pt") is expected
