# ruff: noqa: E501 - test tables keep one case per line
"""Exclusions with a scope: a clause's `none` per scope (article, lead, the sentences of its
chosen hits) and a rule-wide `veto` with `in: lead`, each shown to fire and to stop, in several
languages, beside the article-wide forms they refine."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from monitor.engine import RuleSet, match
from monitor.text import analyse
from tests import rule_support

LANGS = "[en, nl, de, fr, es, ru]"
ruleset = functools.partial(rule_support.ruleset, languages=LANGS)


def clauses(rs: RuleSet, text: str, lang: str) -> list[str]:
    return [m.clause for m in match(analyse(text, lang), rs)]


DEPLOY = """
terms:
  troops:
    en: [troops]
    nl: [troepen]
    de: [soldaten]
    fr: [soldats]
    es: [soldados]
    ru: [войска]
  sent:
    en: [sent]
    nl: [stuurt]
    de: [schickt]
    fr: [envoie]
    es: [envía]
    ru: [направила]
  home:
    en: [its own border]
    nl: [eigen grens]
    de: [eigene grenze]
    fr: [sa propre frontière]
    es: [su propia frontera]
    ru: [свою границу]
match:
  - all: [troops, sent]
    near: sentence
    none: {{{scope}: [home]}}
"""

# (lang, the home marker in the troops' own sentence, the home marker in another sentence)
HOME = [
    pytest.param("en", "The army sent troops to its own border.", "The army sent troops to Mali. Chad guards its own border.", id="en"),
    pytest.param("nl", "Polen stuurt troepen naar de eigen grens.", "Frankrijk stuurt troepen naar Mali. Tsjaad bewaakt de eigen grens.", id="nl"),
    pytest.param("de", "Polen schickt Soldaten an die eigene Grenze.", "Frankreich schickt Soldaten nach Mali. Tschad schützt die eigene Grenze.", id="de"),
    pytest.param("fr", "La Pologne envoie des soldats à sa propre frontière.", "La France envoie des soldats au Mali. Le Tchad garde sa propre frontière.", id="fr"),
    pytest.param("es", "Polonia envía soldados a su propia frontera.", "Francia envía soldados a Malí. Chad vigila su propia frontera.", id="es"),
    pytest.param("ru", "Польша направила войска на свою границу.", "Франция направила войска в Мали. Чад охраняет свою границу.", id="ru"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "same_sentence", "other_sentence"), HOME)
def test_sentence_scoped_none_sees_only_the_clauses_sentences(
    tmp_path: Path, lang: str, same_sentence: str, other_sentence: str
) -> None:
    """`none: {sentence: [home]}` stops the clause when the home marker stands in the sentence
    of its troops and verb, and lets it fire when the marker is in another sentence."""
    rs = ruleset(tmp_path, DEPLOY.format(scope="sentence"))
    assert clauses(rs, same_sentence, lang) == []
    assert clauses(rs, other_sentence, lang) == [
        "all(troops, sent) none in its sentences(home) in one sentence"
    ]


@pytest.mark.parametrize(("lang", "same_sentence", "other_sentence"), HOME)
def test_article_scoped_none_still_sees_every_sentence(
    tmp_path: Path, lang: str, same_sentence: str, other_sentence: str
) -> None:
    """`none: {article: [...]}` means what a plain `none:` list always meant: a hit anywhere
    stops the clause, the background sentence too."""
    rs = ruleset(tmp_path, DEPLOY.format(scope="article"))
    assert clauses(rs, same_sentence, lang) == []
    assert clauses(rs, other_sentence, lang) == []
    listed = ruleset(
        tmp_path, DEPLOY.format(scope="article").replace("{article: [home]}", "[home]")
    )
    assert clauses(listed, other_sentence, lang) == []


NEAR_WORDS = """
terms:
  troops: {en: [troops]}
  sent: {en: [sent]}
  home: {en: [its own border]}
match:
  - all: [troops, sent]
    near: 4
    none: {sentence: [home]}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Chad sent more. Troops guard its own border.", False, id="window-spans-two-sentences-marker-in-second"),
        pytest.param("Mali guards its own border, Chad sent more. Troops arrived.", False, id="marker-in-the-first-sentence-of-the-window"),
        pytest.param("Chad sent troops. Mali guards its own border.", True, id="marker-in-a-sentence-without-chosen-hits"),
    ],
)  # fmt: skip
def test_sentence_scope_with_a_word_window(tmp_path: Path, text: str, expected: bool) -> None:
    """With `near: N` the chosen hits may lie in two sentences: both are the clause's sentences;
    a sentence none of the chosen hits stands in is not."""
    assert bool(clauses(ruleset(tmp_path, NEAR_WORDS), text, "en")) is expected


RETRO = """
terms:
  coup:
    en: [coup]
    nl: [staatsgreep]
    de: [putsch]
    es: [golpe de estado]
    ru: [переворот]
  ago:
    en: [years ago]
    nl: [jaar geleden]
    de: [vor jahren]
    es: [hace años]
    ru: [лет назад]
lead_sentences: 1
match:
  - any: [coup]
    none: {lead: [ago]}
"""


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        pytest.param("en", "The coup of years ago\n\nVeterans met on Monday. The coup failed.", False, id="en-headline"),
        pytest.param("en", "Army stages coup\n\nTanks rolled in. Shops closed. A coup failed years ago.", True, id="en-body"),
        pytest.param("nl", "Staatsgreep in Mali\n\nTien jaar geleden begon de oorlog. Winkels dicht.", False, id="nl-first-lead-sentence"),
        pytest.param("nl", "Staatsgreep in Mali\n\nTanks in de straten. Winkels dicht. Tien jaar geleden was het ook zo.", True, id="nl-body"),
        pytest.param("de", "Der Putsch vor Jahren\n\nDie Veteranen trafen sich.", False, id="de-headline"),
        pytest.param("de", "Putsch in Niger\n\nPanzer in den Straßen. Läden zu. Schon vor Jahren gab es einen.", True, id="de-body"),
        pytest.param("es", "El golpe de estado de hace años\n\nLos veteranos se reunieron.", False, id="es-headline"),
        pytest.param("es", "Golpe de estado en Níger\n\nTanques en las calles. Tiendas cerradas. Hace años hubo otro.", True, id="es-body"),
        pytest.param("ru", "Переворот 30 лет назад\n\nВетераны встретились.", False, id="ru-headline"),
        pytest.param("ru", "Переворот в Нигере\n\nТанки на улицах. Магазины закрыты. Такое было 30 лет назад.", True, id="ru-body"),
        pytest.param("en", "Army stages coup. Tanks rolled in. A coup failed years ago.", True, id="no-title-first-sentence-is-the-title"),
    ],
)  # fmt: skip
def test_lead_scoped_none(tmp_path: Path, lang: str, text: str, expected: bool) -> None:
    """`none: {lead: [ago]}` stops the clause when "years ago" is in the title or the lead
    sentences, not when it is further down (the body of a real coup story recalls older ones)."""
    assert bool(clauses(ruleset(tmp_path, RETRO), text, lang)) is expected


def test_lead_scoped_none_sees_what_ignored_sentences_leave(tmp_path: Path) -> None:
    """Like the article's, the lead's none-of groups see the hits left after
    `ignore_sentences_with`: a group that drops its sentences cannot also veto from the lead
    (a lead-scoped `veto` can, see below)."""
    body = RETRO + "ignore_sentences_with: [ago]\n"
    text = "Army stages coup\n\nA coup failed years ago. Tanks rolled in."
    assert clauses(ruleset(tmp_path, RETRO), text, "en") == []
    assert clauses(ruleset(tmp_path, body), text, "en") == ["any(coup) none in the lead(ago)"]


LEAD_VETO = """
terms:
  coup: {en: [coup], de: [putsch], fr: [coup d'état], ru: [переворот]}
  ago: {en: [years ago], de: [vor jahren], fr: [il y a 30 ans], ru: [лет назад]}
lead_sentences: 1
ignore_sentences_with: [ago]
veto:
  - any: [ago]
    in: SCOPE
match:
  - any: [coup]
"""


@pytest.mark.parametrize(
    ("lang", "text", "in_lead", "in_article"),
    [
        pytest.param("en", "The coup of 33 years ago\n\nVeterans recalled the coup.", False, False, id="en-headline"),
        pytest.param("en", "Army stages coup\n\nTanks rolled in. The last coup was 33 years ago.", True, False, id="en-body"),
        pytest.param("de", "Der Putsch vor Jahren\n\nVeteranen erinnern an den Putsch.", False, False, id="de-headline"),
        pytest.param("de", "Putsch in Niger\n\nPanzer rollen. Der letzte Putsch war vor Jahren.", True, False, id="de-body"),
        pytest.param("fr", "Le coup d'État d'il y a 30 ans\n\nLes anciens se souviennent du coup d'État.", False, False, id="fr-headline"),
        pytest.param("fr", "Coup d'État au Niger\n\nDes chars dans les rues. Le dernier coup d'État, il y a 30 ans.", True, False, id="fr-body"),
        pytest.param("ru", "Переворот 33 лет назад\n\nВетераны вспомнили переворот.", False, False, id="ru-headline"),
        pytest.param("ru", "Переворот в Нигере\n\nТанки на улицах. Прошлый переворот был 33 лет назад.", True, False, id="ru-body"),
    ],
)  # fmt: skip
def test_lead_veto_against_the_article_veto(
    tmp_path: Path, lang: str, text: str, in_lead: bool, in_article: bool
) -> None:
    """A veto `in: lead` counts its hits in the title and lead sentences only, ignored ones
    included: a headline "years ago" stops the rule, a body "years ago" only drops its own
    sentence (the coup of the title still fires). The article veto stops both."""
    lead = ruleset(tmp_path, LEAD_VETO.replace("SCOPE", "lead"))
    assert bool(clauses(lead, text, lang)) is in_lead
    article = ruleset(tmp_path, LEAD_VETO.replace("SCOPE", "article"))
    assert bool(clauses(article, text, lang)) is in_article


def test_lead_veto_counts_distinct_terms_of_the_lead(tmp_path: Path) -> None:
    """`min_hits` of a lead veto counts distinct terms in the lead: two there stop the rule, one
    there and one in the body do not."""
    body = """
    terms:
      coup: {en: [coup]}
      film: {en: [film, director]}
    lead_sentences: 1
    veto:
      - any: [film]
        min_hits: 2
        in: lead
    match:
      - any: [coup]
    """
    rs = ruleset(tmp_path, body)
    assert clauses(rs, "Coup film\n\nThe director spoke. Tanks. Shops. Banks.", "en") == []
    assert clauses(rs, "Coup film\n\nTanks rolled. Shops. Banks. The director spoke.", "en") == [
        "any(coup)"
    ]


def test_scopes_combine_in_one_clause(tmp_path: Path) -> None:
    """One clause may exclude by article, lead and sentence at once; each scope stops it on its
    own, and none of them when its groups hit only elsewhere."""
    body = """
    terms:
      troops: {en: [troops]}
      sent: {en: [sent]}
      opinion: {en: [opinion]}
      ago: {en: [years ago]}
      home: {en: [its own border]}
    lead_sentences: 1
    match:
      - all: [troops, sent]
        near: sentence
        none: {article: [opinion], lead: [ago], sentence: [home]}
    """
    rs = ruleset(tmp_path, body)
    fires = "Chad sent troops to Mali\n\nShops closed. Banks closed. Years ago it was so. Niger guards its own border."
    assert clauses(rs, fires, "en") == [
        "all(troops, sent) none(opinion) none in the lead(ago) none in its sentences(home) "
        "in one sentence"
    ]
    assert clauses(rs, fires + " Opinion.", "en") == []
    assert clauses(rs, "Chad sent troops years ago\n\nShops closed.", "en") == []
    assert clauses(rs, "Chad sent troops to its own border\n\nShops closed.", "en") == []


SCARE_QUOTES = """
terms:
  coup:
    en: [coup]
    de: [putsch*]
    fr: [putsch]
    pl: [pucz*]
    ru: [путч*]
scare_quotes: [coup]
match:
  - any: [coup]
"""


@pytest.mark.parametrize(
    ("lang", "text", "fires"),
    [
        pytest.param("de", "„Putsch“ im Landesverband: Vorsitzender abgewählt.", False, id="de-low-high-quotes"),
        pytest.param("de", "Der Putsch im Landesverband ist gescheitert.", True, id="de-unquoted"),
        pytest.param("de", "Anhänger sprechen von einem \"Putsch\" in der Partei.", False, id="de-straight-quotes"),
        pytest.param("fr", "La direction renversée par un « putsch » interne.", False, id="fr-guillemets-spaced"),
        pytest.param("fr", "La direction renversée par un «putsch» interne.", False, id="fr-guillemets-tight"),
        pytest.param("fr", "Ils dénoncent « un putsch organisé dans les couloirs ».", True, id="fr-quoted-phrase"),
        pytest.param("en", "The board called it a 'coup' against the founder.", False, id="en-single-quotes"),
        pytest.param("en", "The generals' coup toppled the president.", True, id="en-possessive-apostrophe"),
        pytest.param("en", "Soldiers staged a \u201ccoup\u201d, the minister said.", False, id="en-curly-quotes"),
        pytest.param("pl", "Mówią o „puczu” w zarządzie spółdzielni.", False, id="pl-quotes"),
        pytest.param("ru", "Это «путч», заявил председатель клуба.", False, id="ru-guillemets"),
        pytest.param("ru", "В стране произошёл военный путч.", True, id="ru-unquoted"),
    ],
)  # fmt: skip
def test_scare_quotes(tmp_path: Path, lang: str, text: str, fires: bool) -> None:
    """A hit of a `scare_quotes` group that alone fills a pair of quotation marks (each
    language's marks; French guillemets a space apart or not) does not count: the writer does
    not vouch for the word. A quotation that holds more than the term (a quoted sentence) and a
    possessive apostrophe before it leave the hit counting."""
    rs = ruleset(tmp_path, SCARE_QUOTES, languages="[en, de, fr, pl, ru]")
    assert bool(clauses(rs, text, lang)) is fires


def test_scare_quotes_leave_other_groups_and_other_hits(tmp_path: Path) -> None:
    """Only the listed groups lose their quoted hits, and only those: an unquoted mention of the
    same word elsewhere in the article still counts."""
    body = """
    terms:
      coup: {en: [coup]}
      word: {en: [takeover]}
    scare_quotes: [coup]
    match:
      - any: [coup]
      - any: [word]
    """
    rs = ruleset(tmp_path, body, languages="[en]")
    assert clauses(rs, "A 'coup', he said. Then came the coup.", "en") == ["clause 1: any(coup)"]
    assert clauses(rs, "A 'takeover', he said.", "en") == ["clause 2: any(word)"]
