# ruff: noqa: E501 - one case per line reads as a table
"""Text normalisation, table-driven: folding, sentence splitting, tokens and their offsets."""

from __future__ import annotations

import json
import random
from itertools import accumulate
from pathlib import Path

import pytest

import monitor.text as text_module
from monitor.text import Token, analyse, fold, split_sentences


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        pytest.param("", "", id="empty"),
        pytest.param("Plain ASCII, Words.", "plain ascii, words.", id="ascii-lower"),
        pytest.param("Déploiement", "deploiement", id="french-accents"),
        pytest.param("Ausländische TRUPPEN", "auslandische truppen", id="german-umlaut-case"),
        pytest.param("Straße", "straße", id="eszett-stays-one-character"),
        pytest.param("Łódź Kraków", "łodz krakow", id="polish"),
        pytest.param("España, NIÑO", "españa, niño", id="spanish-enye-kept"),
        pytest.param("Ёлка Москва", "елка москва", id="cyrillic-yo"),
        pytest.param("Йошкар-Ола", "йошкар-ола", id="cyrillic-short-i-kept"),
        pytest.param("l’armée l‘x", "l'armee l'x", id="typographic-apostrophes"),
        pytest.param("① ²", "1 2", id="nfkc-compatibility"),
        pytest.param("ﬁnal", "ﬁnal", id="ligature-kept-as-nfkc-would-lengthen-it"),
        pytest.param("İstanbul", "istanbul", id="dotted-capital-i-one-character"),
        pytest.param("ΟΔΟΣ", "οδοσ", id="greek-no-final-sigma-context"),
        pytest.param("Président " * 50 + "Tokaïev", "president " * 50 + "tokaiev", id="long-latin"),
        pytest.param("Парламент " * 50 + "Ёж", "парламент " * 50 + "еж", id="long-cyrillic"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert len(fold(text)) == len(text)  # offsets into the folded text are offsets into the text


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [""], id="empty-is-one-sentence"),
        pytest.param("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"], id="terminals"),
        pytest.param("Wait… Then it came.", ["Wait…", "Then it came."], id="ellipsis"),
        pytest.param("He left. and came back.", ["He left. and came back."], id="lower-case-next"),
        pytest.param("Mr. Smith arrived. Dr. Jones left.", ["Mr. Smith arrived.", "Dr. Jones left."], id="abbreviations"),
        pytest.param("J. R. Tolkien wrote. He died.", ["J. R. Tolkien wrote.", "He died."], id="initials"),
        pytest.param("Tools, e.g. Hammers. Nails.", ["Tools, e.g. Hammers.", "Nails."], id="dotted-abbreviation"),
        pytest.param("Z.B. Berlin ist groß.", ["Z.B. Berlin ist groß."], id="german-abbreviation-folded"),
        pytest.param("Dat zijn 2.030 soldaten. Ze kwamen.", ["Dat zijn 2.030 soldaten.", "Ze kwamen."], id="thousands-dot"),
        pytest.param("Version 2.0 ships. It works.", ["Version 2.0 ships.", "It works."], id="decimal"),
        pytest.param("He counted to 164. 12 more died.", ["He counted to 164.", "12 more died."], id="digit-starts-sentence"),
        pytest.param('He said "Yes." Then left.', ['He said "Yes."', "Then left."], id="closing-quote"),
        pytest.param('Ask "No." Then', ['Ask "No." Then'], id="no-is-an-abbreviation"),
        pytest.param('It ended. "Why?" she asked.', ["It ended.", '"Why?" she asked.'], id="opening-quote"),
        pytest.param("Il a dit « Non. » Puis.", ["Il a dit « Non. » Puis."], id="space-before-guillemet"),
        pytest.param("Fin. —Suite ici.", ["Fin.", "—Suite ici."], id="dash-start"),
        pytest.param("Fin. — suite ici.", ["Fin. — suite ici."], id="spaced-dash-does-not-start"),
        pytest.param("Сказал т.е. Москва. Потом.", ["Сказал т.е. Москва.", "Потом."], id="cyrillic-abbreviation"),
        pytest.param("Войска прибыли. Президент сказал.", ["Войска прибыли.", "Президент сказал."], id="cyrillic"),
        pytest.param("Погибли 5 тыс. человек. Всё.", ["Погибли 5 тыс. человек.", "Всё."], id="cyrillic-lower-case-next"),
        pytest.param("Służy 4,5 tys. żołnierzy. Zmiana.", ["Służy 4,5 tys. żołnierzy.", "Zmiana."], id="polish-lower-case-next"),
        pytest.param("Il est parti. été comme hiver. Éric reste.", ["Il est parti. été comme hiver.", "Éric reste."], id="accented-lower-and-upper"),
        pytest.param("«Уходите!» — кричали люди. Тихо.", ["«Уходите!» — кричали люди.", "Тихо."], id="attribution-after-a-quote"),
        pytest.param("Służy ok. 400 żołnierzy, wg płk. Nowaka. Koniec.", ["Służy ok. 400 żołnierzy, wg płk. Nowaka.", "Koniec."], id="polish-abbreviations"),
        pytest.param("Zginęło m.in. 5 osób. Rząd milczy.", ["Zginęło m.in. 5 osób.", "Rząd milczy."], id="polish-dotted-abbreviation"),
        pytest.param("Title\nBody text here", ["Title", "Body text here"], id="newline"),
        pytest.param("  Padded.   Next.  ", ["Padded.", "Next."], id="stripped"),
        pytest.param("approximately. Next.", ["approximately.", "Next."], id="long-word-not-abbreviation"),
    ],
)  # fmt: skip
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("Troops arrived.", [(0, 6, "troops"), (7, 14, "arrived")], id="folded-norms"),
        pytest.param("l’armée d'élite", [(0, 7, "l'armee"), (8, 15, "d'elite")], id="apostrophes"),
        pytest.param("2.030 soldaten", [(0, 1, "2"), (2, 5, "030"), (6, 14, "soldaten")], id="digits"),
        pytest.param("  Москва, Ёж!", [(2, 8, "москва"), (10, 12, "еж")], id="cyrillic-offsets"),
        pytest.param("peace-keeping_ops", [(0, 5, "peace"), (6, 17, "keeping_ops")], id="hyphen-underscore"),
    ],
)  # fmt: skip
def test_tokens(text: str, tokens: list[tuple[int, int, str]]) -> None:
    doc = analyse(text, "en")
    assert [tuple(t) for t in doc.tokens] == tokens
    assert all(isinstance(t, Token) for t in doc.tokens)
    assert doc.token_starts == [t.start for t in doc.tokens]
    for token in doc.tokens:
        assert fold(text[token.start : token.end]) == token.norm


@pytest.mark.parametrize(
    ("offset", "token", "sentence"),
    [
        pytest.param(0, 0, "Troops arrived.", id="start"),
        pytest.param(7, 1, "Troops arrived.", id="second-word"),
        pytest.param(15, 1, "Troops arrived.", id="space-belongs-before"),
        pytest.param(16, 2, "Dr. Jones left.", id="next-sentence"),
        pytest.param(30, 4, "Dr. Jones left.", id="last-character"),
    ],
)
def test_offsets_to_token_and_sentence(offset: int, token: int, sentence: str) -> None:
    doc = analyse("Troops arrived. Dr. Jones left.", "en")
    assert doc.token_index(offset) == token
    assert doc.sentence_text(offset) == sentence


def _unicode_columns(folded: str) -> tuple[list[str], list[int]]:
    parts = text_module._TOKEN.split(folded)
    starts = list(accumulate(map(len, parts), initial=0))[1:-1:2]
    return parts[1::2], starts


def test_ascii_fast_path_finds_the_same_tokens() -> None:
    """ASCII text is split with an ASCII-only pattern; on random ASCII (every character,
    apostrophes and digits among words) and on the ASCII articles of ``examples/`` and ``eval/``
    its tokens and offsets are those of the Unicode pattern."""
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(128)] + ["a", "b", "'", " ", "1"] * 20
    texts = ["".join(rng.choices(alphabet, k=rng.randrange(300))) for _ in range(500)]
    repo = Path(__file__).resolve().parents[2]
    for path in [repo / "examples" / "articles.jsonl", *sorted(repo.glob("eval/**/*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    ascii_texts = [t for t in texts if t.isascii()]
    assert len(ascii_texts) > 550  # the random ones and at least 50 real articles
    for text in ascii_texts:
        doc = analyse(text, "en")
        assert (doc.token_norms, doc.token_starts) == _unicode_columns(doc.folded), text[:60]


@pytest.mark.parametrize("codec", ["latin-1", "cp1252", "cp1251", "cp1250"])
def test_code_page_fast_fold_matches_the_per_character_fold(codec: str) -> None:
    """Folding text of one code page through its byte table gives the per-character fold for
    every character of the code page, alone and among others (the micro sign, which folds
    outside each of them, included), and for text mixing the code pages."""
    rng = random.Random(3)
    chars = [bytes([i]).decode(codec, "ignore") for i in range(256)]
    chars = [c for c in chars if c]
    assert len(chars) >= 251  # every code page defines at least 251 of its 256 bytes
    samples = [*chars, *(f"A{c}\u00e9\u2019" for c in chars)]
    samples += ["".join(rng.choices(chars, k=rng.randint(1, 40))) for _ in range(2000)]
    mixed = [chr(i) for i in range(0x20, 0x180)] + ["\u201e", "\u2014", "ł", "ż", "Ё", "й"]
    samples += ["".join(rng.choices(mixed, k=rng.randint(1, 40))) for _ in range(2000)]
    # short text beyond Latin-1 folds character by character: each sample also behind a long
    # prefix of the code page's own characters, so that the code page's table folds it
    prefix = "".join(rng.choices(chars, k=text_module._SHORT_FOLD))
    for sample in [*samples, *(prefix + s for s in samples)]:
        assert fold(sample) == text_module._fold_per_character(sample), repr(sample)
    assert fold("5 \u00b5m \u00c9t\u00e9") == "5 \u03bcm ete"
    assert fold("\u00b5 \u201eŁódź\u201c") == "\u03bc \u201ełodz\u201c"


def _reference_sentences(text: str) -> list[tuple[int, int]]:
    """The splitter as specified: a candidate full stop does not end a sentence when the whole
    run of letters, digits and dots before it (folded) is one letter or an abbreviation."""
    folded = fold(text)
    bounds = []
    for m in text_module._BOUNDARY.finditer(text):
        punct = m.start()
        if text[punct] == ".":
            run = punct
            while run > 0 and (folded[run - 1].isalnum() or folded[run - 1] == "."):
                run -= 1
            word = folded[run:punct]
            if (len(word) == 1 and word.isalpha()) or word in text_module._ABBREVIATIONS:
                continue
        bounds.append(m.end())
    spans, start = [], 0
    for end in [*bounds, len(text)]:
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + lead + len(piece.strip())))
        start = end
    return spans or [(0, len(text))]


def test_sentence_splitter_matches_its_specification() -> None:
    """On random text made of abbreviations (with and without their dots, in any case), single
    letters, digits, long words, dots and sentence starts, the splitter (one search over the
    reversed text for the full stops after an abbreviation) splits as the plain reading of the
    rule does."""
    rng = random.Random(11)
    abbreviations = sorted(text_module._ABBREVIATIONS)
    pieces = [
        *abbreviations,
        *(a.upper() for a in abbreviations),
        *(a.title() for a in abbreviations),
    ]
    pieces += ["J", "é", "Ж", "²", "½", "5", "2.030", "approximately", "x.mr", "Mr.mr", "word"]
    glue = [". ", ".", " ", ".. ", ". \u00ab", "! ", "\n", ", ", ".\u201d "]
    texts = []
    for _ in range(3000):
        parts = [rng.choice(pieces) + rng.choice(glue) for _ in range(rng.randint(1, 12))]
        texts.append("".join(parts))
    for text in texts:
        assert list(split_sentences(text)) == _reference_sentences(text), repr(text)
