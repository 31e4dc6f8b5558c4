"""Figures: numbers with what they count (deaths, injured, arrests, troops, vehicles).

A number is digits in the language's format (``2.030`` in Dutch and German, ``2,030`` in
English, ``2 030`` in French, Russian and Polish, ``1,5 miljoen``) or a number word (*twee*,
*zwei*, *honderd*), or a vague quantity (*tientallen*, *dozens*, *десятки*: value 20, qualifier
"dozens"). What it counts is the first kind word (``data/figures.yaml``) within three words
after it (*164 doden*, *2.030 Russische soldaten*), or a few words further when a people word
comes first (*12 people were killed*); a casualty kind wins over troops in that reach (*two
soldiers were killed*). Failing that, a kind word up to four words before it (*погибли 12
человек*, *death toll rose to 40*). The reach stops at punctuation and at the next number, and a
time, money or distance unit right after the number (*twee dagen*) means it counts nothing.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from monitor.alert import Figure, Span
from monitor.enrich import data
from monitor.errors import ConfigError
from monitor.text import Document, fold

DATA_FILE = "figures.yaml"
REACH_AFTER = 3
REACH_PEOPLE = 4
REACH_BEFORE = 4
_SPACES = "\u00a0\u202f"
_NON_DIGIT = re.compile(r"\D")
_STOP_GAP = re.compile(r"[,;:.!?()\[\]\"\u00ab\u00bb\u201c\u201d\n]")

Phrase = tuple[tuple[str, ...], bool]  # folded words, last one a stem


def _phrases(forms: list[str]) -> list[Phrase]:
    out: list[Phrase] = []
    for form in forms:
        stem = form.endswith("*")
        words = tuple(fold(form.rstrip("*")).replace("'", " ' ").split())
        if words:
            out.append((words, stem))
    return out


def _match_at(tokens: _Tokens, i: int, limit: int, phrase: Phrase) -> int:
    """Index after the phrase if it matches at token ``i`` (not beyond ``limit``), else -1."""
    words, stem = phrase
    if i + len(words) > limit:
        return -1
    for k, word in enumerate(words):
        norm = tokens.norms[i + k]
        if k == len(words) - 1 and stem:
            if not (norm.startswith(word) and len(norm) - len(word) <= 4):
                return -1
        elif norm != word:
            return -1
    return i + len(words)


class _Tokens(NamedTuple):
    """The document's tokens as columns: list indexing is cheaper than a ``Token`` per word."""

    norms: list[str]
    starts: list[int]
    ends: list[int]


class _Index:
    """Phrases by the word they start (or, ``backwards``, end) with; per-word answers cached.

    News vocabulary repeats, so after warm-up a token costs one dict lookup instead of a pass
    over every phrase of every kind.
    """

    _CACHE_SIZE = 50_000

    def __init__(self, labelled: list[tuple[str, Phrase]], *, backwards: bool = False) -> None:
        self._labelled = labelled
        self._backwards = backwards
        # per word: (label, phrase, number of words of the phrase)
        self._cache: dict[str, list[tuple[str, Phrase, int]]] = {}
        # words seen to start (end) no phrase: the callers' loops skip them with a set lookup
        self.idle: set[str] = set()

    def candidates(self, norm: str) -> list[tuple[str, Phrase, int]]:
        found = self._cache.get(norm)
        if found is None:
            if len(self._cache) > self._CACHE_SIZE:
                self._cache.clear()
                self.idle.clear()
            found = self._cache[norm] = [
                (label, phrase, len(phrase[0]))
                for label, phrase in self._labelled
                if self._fits(norm, phrase)
            ]
            if not found:
                self.idle.add(norm)
        return found

    def _fits(self, norm: str, phrase: Phrase) -> bool:
        words, stem = phrase
        word = words[-1] if self._backwards else words[0]
        if stem and word is words[-1]:
            return norm.startswith(word) and len(norm) - len(word) <= 4
        return norm == word

    def starting_at(self, tokens: _Tokens, i: int, limit: int) -> list[tuple[str, int]]:
        """(label, index after the phrase) for every phrase matching at token ``i``."""
        if i >= limit:
            return []
        norm = tokens.norms[i]
        candidates = self._cache.get(norm)
        if candidates is None:
            candidates = self.candidates(norm)
        if not candidates:  # most words start no phrase
            return []
        out = []
        for label, phrase, size in candidates:
            if size == 1:  # the word fits it (``_fits``): nothing more to compare
                out.append((label, i + 1))
                continue
            stop = _match_at(tokens, i, limit, phrase)
            if stop > 0:
                out.append((label, stop))
        return out

    def ending_before(self, tokens: _Tokens, i: int) -> list[tuple[str, int]]:
        """(label, index of the first word) for every phrase ending right before token ``i``."""
        if i <= 0:
            return []
        norm = tokens.norms[i - 1]
        if norm in self.idle:
            return []
        out = []
        for label, phrase, size in self.candidates(norm):
            start = i - size
            if size == 1 or (start >= 0 and _match_at(tokens, start, i, phrase) == i):
                out.append((label, start))
        return out


def _labelled(groups: list[tuple[str, list[Phrase]]]) -> list[tuple[str, Phrase]]:
    return [(label, phrase) for label, phrases in groups for phrase in phrases]


@dataclass(frozen=True)
class _Language:
    kinds: _Index
    people: _Index
    units: _Index
    qualifiers: _Index
    number: re.Pattern[str]
    number_ascii: re.Pattern[str]  # the same in ASCII mode: the same matches in ASCII text, faster
    decimal: str
    thousands: str
    # no digit among the separators: a number of digits only is its own value
    plain_digits: bool
    words: dict[str, int]
    vague: dict[str, tuple[int, str]]
    scales: dict[str, int]
    counted: frozenset[str]  # number words and vague quantities: what ``_numbers`` looks for


class _Number(NamedTuple):
    start: int
    end: int
    value: int
    qualifier: str | None
    before: int  # index of the first token at or after ``start``
    after: int  # index of the first token at or after ``end``


class FigureFinder:
    """Counted numbers in an article (built once at startup)."""

    def __init__(self, languages: dict[str, _Language], casualty: frozenset[str]) -> None:
        self._languages = languages
        self._casualty = casualty

    @classmethod
    def load(cls, languages: list[str], extra_data_dir: Path | None = None) -> FigureFinder:
        raw = data.load(DATA_FILE, extra_data_dir)
        kinds: dict[str, Any] = raw.get("kinds") or {}
        quals: dict[str, Any] = raw.get("qualifiers") or {}
        numbers: dict[str, Any] = raw.get("numbers") or {}
        built: dict[str, _Language] = {}

        def per_lang(section: dict[str, Any], key: str, lang: str) -> list[Phrase]:
            value = section.get(key) or {}
            return _phrases(data.strings(value.get(lang), f"{DATA_FILE}: {key}.{lang}"))

        for lang in languages:
            fmt: dict[str, Any] = numbers.get(lang) or {}
            where = f"{DATA_FILE}: numbers.{lang}"
            decimal = str(fmt.get("decimal", "."))
            thousands = "".join(data.strings(fmt.get("thousands"), where)) + _SPACES
            group = "[" + re.escape(thousands) + "]"
            number = re.compile(
                rf"(\d(?<![\w.,]\d)(?:\d{{0,2}}(?:{group}\d{{3}})+|\d*(?:[.,]\d+)?))(?!\w)"
            )
            try:
                words = {fold(k): int(v) for k, v in (fmt.get("words") or {}).items()}
                vague_raw: dict[str, Any] = fmt.get("vague") or {}
                vague = {fold(k): (int(v[0]), str(v[1])) for k, v in vague_raw.items()}
                scales = {fold(k): int(v) for k, v in (fmt.get("scales") or {}).items()}
            except (TypeError, ValueError, IndexError) as exc:
                raise ConfigError(where, f"bad number table: {exc}") from exc
            built[lang] = _Language(
                kinds=_Index(_labelled([(str(k), per_lang(kinds, k, lang)) for k in kinds])),
                people=_Index(_labelled([("people", per_lang(raw, "people", lang))])),
                units=_Index(_labelled([("unit", per_lang(raw, "units", lang))])),
                qualifiers=_Index(
                    _labelled([(str(q), per_lang(quals, q, lang)) for q in quals]), backwards=True
                ),
                number=number,
                number_ascii=re.compile(number.pattern, re.ASCII),
                decimal=decimal,
                thousands=thousands,
                plain_digits=bool(decimal) and not any(c.isdecimal() for c in decimal + thousands),
                words=words,
                vague=vague,
                scales=scales,
                counted=frozenset(words) | frozenset(vague),
            )
        casualty = frozenset(data.strings(raw.get("casualty_kinds"), DATA_FILE))
        return cls(built, casualty)

    def figures(self, doc: Document) -> tuple[Figure, ...]:
        lang = self._languages.get(doc.language) or self._languages.get("en")
        if lang is None:
            return ()
        norms, starts = doc.token_norms, doc.token_starts
        tokens = _Tokens(norms, starts, doc.token_ends)
        numbers = self._numbers(doc, lang, tokens, starts)
        if not numbers:
            return ()
        count = len(norms)
        units = lang.units
        qualifiers, idle = lang.qualifiers, lang.qualifiers.idle
        text = doc.text
        # ``doc.sentence_text`` without its two calls per figure: the same bisect, read here
        sentences, sentence_starts = doc.sentences, doc.sentence_starts
        out: list[Figure] = []
        for n_start, n_end, value, qualifier, before, after in numbers:
            found = self._kind_after(doc, lang, tokens, after)
            if found is None:
                if units.starting_at(tokens, after, count):
                    continue  # a unit right after the number (*twee dagen*): no count
                found = self._kind_before(doc, lang, tokens, before)
                if found is None:
                    continue
            kind, lo, hi = found
            start = lo if lo < n_start else n_start
            # most numbers follow a word that ends no qualifier: skip the call for them
            if before > 0 and norms[before - 1] not in idle:
                q_start = self._qualifier(doc, qualifiers, tokens, before)
                if q_start is not None:
                    qualifier, q_pos = q_start
                    start = min(start, q_pos)
            end = hi if hi > n_end else n_end
            if 1800 <= value <= 2100 and qualifier is None:
                if not (lo >= n_end and text[n_end:lo].strip() == ""):
                    continue  # a year, not a count
            k = bisect.bisect_right(sentence_starts, n_start) - 1
            s_start, s_end = sentences[k if k > 0 else 0]
            out.append(
                Figure(
                    kind=kind,
                    value=value,
                    qualifier=qualifier,
                    surface=text[start:end],
                    span=Span(start, end),
                    sentence=text[s_start:s_end],
                )
            )
        return tuple(out)

    def _numbers(
        self, doc: Document, lang: _Language, tokens: _Tokens, starts: list[int]
    ) -> list[_Number]:
        found: list[_Number] = []
        taken: set[int] = set()
        folded = doc.folded
        norms = tokens.norms
        scales = lang.scales
        count = len(norms)
        # The pattern starts with a digit, so the regex engine skips to digits in C; its
        # look-behind (no word character, dot or comma before) leaves the digits that start a
        # token or follow the apostrophe inside one ("l'12").
        number = lang.number_ascii if folded.isascii() else lang.number
        plain_digits = lang.plain_digits
        new = tuple.__new__  # builds the named tuple in C (no Python-level __new__ call)
        for m in number.finditer(folded):
            raw = m.group(1)
            if plain_digits and raw.isdecimal():
                value = float(raw)  # what _parse_digits makes of it, without the replacing
            else:
                value = self._parse_digits(raw, lang)
            start, end = m.span()
            i = bisect.bisect_left(starts, end)
            after = i
            if i < count and norms[i] in scales:
                if _adjacent(doc, end, starts[i]):
                    value *= scales[norms[i]]
                    end = tokens.ends[i]
                    taken.add(i)
                    after = i + 1  # the next token: tokens are apart (a gap between each two)
            if value >= 1:
                before = bisect.bisect_left(starts, start, 0, after)
                found.append(new(_Number, (start, end, int(value), None, before, after)))
        counted = lang.counted
        # number words are few in an article: find each with list.index (in C), not a pass
        # over every token in Python
        words = []
        for word in counted.intersection(norms):
            i = norms.index(word)
            while True:
                words.append(i)
                try:
                    i = norms.index(word, i + 1)
                except ValueError:
                    break
        words.sort()
        for i in words:
            if i in taken:
                continue
            norm = norms[i]
            if norm in lang.vague:
                value, qualifier = lang.vague[norm]
                found.append(_Number(starts[i], tokens.ends[i], value, qualifier, i, i + 1))
            elif norm in lang.words:
                value = lang.words[norm]
                end = tokens.ends[i]
                after = i + 1
                if i + 1 < count:
                    nxt = norms[i + 1]
                    if nxt in scales and _adjacent(doc, end, starts[i + 1]):
                        value *= scales[nxt]
                        end = tokens.ends[i + 1]
                        taken.add(i + 1)
                        after = i + 2
                found.append(_Number(starts[i], end, value, None, i, after))
        if words:  # digits come in text order; number words were added after them
            found.sort(key=_start)
        return found

    @staticmethod
    def _parse_digits(raw: str, lang: _Language) -> float:
        if len(raw) > 4 and raw[-4] in lang.thousands:
            if not (raw.count(lang.decimal) == 1 and lang.decimal not in lang.thousands):
                return float(_NON_DIGIT.sub("", raw))
        return float(raw.replace(lang.decimal, ".").replace(",", ""))

    def _kind_after(
        self, doc: Document, lang: _Language, tokens: _Tokens, i: int
    ) -> tuple[str, int, int] | None:
        norms = tokens.norms
        folded = doc.folded
        limit = _reach(folded, lang.counted, tokens, i, REACH_AFTER)
        people = lang.people
        idle = people.idle
        for j in range(i, limit):
            if norms[j] not in idle and people.starting_at(tokens, j, limit):
                limit = _reach(folded, lang.counted, tokens, i, j - i + 1 + REACH_PEOPLE)
                break
        first: tuple[str, int, int] | None = None
        kinds = lang.kinds
        idle = kinds.idle
        for j in range(i, limit):
            if norms[j] in idle:
                continue
            for kind, stop in kinds.starting_at(tokens, j, limit):
                hit = (kind, tokens.starts[j], tokens.ends[stop - 1])
                if kind in self._casualty:
                    return hit
                first = first or hit
        return first

    def _kind_before(
        self, doc: Document, lang: _Language, tokens: _Tokens, i: int
    ) -> tuple[str, int, int] | None:
        j = i
        while j > 0 and i - j < REACH_BEFORE:
            gap_end = tokens.starts[j] if j < len(tokens.norms) else len(doc.folded)
            if _STOP_GAP.search(doc.folded, tokens.ends[j - 1], gap_end):
                break
            j -= 1
            for kind, stop in lang.kinds.starting_at(tokens, j, i):
                return kind, tokens.starts[j], tokens.ends[stop - 1]
        return None

    @staticmethod
    def _qualifier(
        doc: Document, qualifiers: _Index, tokens: _Tokens, i: int
    ) -> tuple[str, int] | None:
        for qualifier, j in qualifiers.ending_before(tokens, i):
            if not _STOP_GAP.search(doc.folded, tokens.starts[j], tokens.ends[i - 1] + 1):
                return qualifier, tokens.starts[j]
        return None


def _reach(folded: str, counted: frozenset[str], tokens: _Tokens, i: int, n: int) -> int:
    """Tokens from ``i`` that stay in reach: no punctuation, no next number (digits or a number
    word or vague quantity: ``counted``)."""
    norms, starts = tokens.norms, tokens.starts
    last = min(len(norms), i + n)
    if i >= last:
        return i
    # Tokens hold no punctuation, so one search finds the first stop in the gap before token
    # ``i`` or in a gap between the tokens up to ``last``. After a number the whole gap counts
    # ("at least 20. Deaths were ..." ends the sentence with the number); after a scale word
    # only its last character, since "3,8 tys. żołnierzy" abbreviates the scale.
    start = starts[i]
    before = norms[i - 1] if i else ""
    gap = tokens.ends[i - 1] if before.isdigit() or before in counted else max(start - 1, 0)
    stop = _STOP_GAP.search(folded, gap, starts[last - 1])
    if stop is not None:
        if stop.start() < start:
            return i
        last = bisect.bisect_right(starts, stop.start(), i, last)
    for end in range(i, last):
        norm = norms[end]
        if norm in counted or norm.isdigit():
            return end
    return last


def _adjacent(doc: Document, end: int, start: int) -> bool:
    return doc.folded[end:start].strip() == ""


def _start(number: _Number) -> int:
    return number.start
