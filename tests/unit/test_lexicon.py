"""Separable verbs: which lemma terms split, and which forms of the verb a main clause splits."""

from __future__ import annotations

import pytest

from monitor.lexicon import finite, forms, separable


@pytest.mark.parametrize(
    ("lang", "word", "expected"),
    [
        ("nl", "uitroepen", ("uit", "roepen")),
        ("nl", "terugtrekken", ("terug", "trekken")),
        ("de", "zurücktreten", ("zurück", "treten")),  # the longest particle, not "zu"
        ("de", "zurückführen", ("zurück", "führen")),  # split as written, not folded
        ("nl", "opstand", None),  # a noun: only infinitives split
        ("nl", "voorkomen", None),  # "voor" begins inseparable verbs too (voorkómen)
        ("de", "entlassen", None),  # an inseparable prefix
        ("de", "anden", None),  # too short a verb after the particle
        ("en", "outrun", None),  # only Dutch and German split
        ("nl", "af treden", None),  # a phrase
    ],
)
def test_separable(lang: str, word: str, expected: tuple[str, str] | None) -> None:
    assert separable(lang, word) == expected


def test_finite_forms_leave_out_participles_and_nouns() -> None:
    forms = {"roept", "riep", "riepen", "roepen", "geroepen", "roepend", "roepende", "roepje"}
    assert finite("nl", "roepen", forms) == {"roept", "riep", "riepen", "roepen"}
    assert finite("de", "rufen", {"ruft", "rief", "gerufen", "rufend", "rufens"}) == {
        "ruft",
        "rief",
    }


@pytest.mark.parametrize(
    ("lang", "verb", "agreeing"),
    [
        # simplemma lemmatises an agreeing participle to its masculine singular, and for these
        # French verbs it knows the participle only as a lemma of its own
        ("fr", "déployer", {"deploye", "deployee", "deployes", "deployees"}),
        ("fr", "rejeter", {"rejete", "rejetee", "rejetees"}),
        # Portuguese "enviadas" has the lemma "enviado", whose lemma is "enviar"
        ("pt", "enviar", {"enviado", "enviada", "enviados", "enviadas"}),
    ],
)
def test_lemma_forms_include_agreeing_participles(lang: str, verb: str, agreeing: set[str]) -> None:
    """A lemma term finds its verb's participles in every gender and number: "ont été déployées",
    "une demande rejetée" (heldout16 fr-139), "tropas enviadas"."""
    assert agreeing <= forms(lang, [verb])[verb]


def test_lemma_forms_do_not_reach_other_words() -> None:
    """The participle step follows lemmas only: a noun's forms stay the noun's ("rejet" is not
    a form of "rejeter", "déploiement" not of "déployer")."""
    found = forms("fr", ["rejeter", "déployer"])
    assert "rejet" not in found["rejeter"] and "rejets" not in found["rejeter"]
    assert "deploiement" not in found["déployer"]
