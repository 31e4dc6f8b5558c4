"""Separable verbs: which lemma terms split, and which forms of the verb a main clause splits."""

from __future__ import annotations

import pytest

from monitor.lexicon import finite, separable


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
