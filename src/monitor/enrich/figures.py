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
        self._cache: dict[str, list[tuple[str, Phrase]]] = {}
        # words seen to start (end) no phrase: the callers' loops skip them with a set lookup
        self.idle: set[str] = set()

    def candidates(self, norm: str) -> list[tuple[str, Phrase]]:
        found = self._cache.get(norm)
        if found is None:
            if len(self._cache) > self._CACHE_SIZE:
                self._cache.clear()
                self.idle.clear()
            found = self._cache[norm] = [
                (label, phrase) for label, phrase in self._labelled if self._fits(norm, phrase)
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
        for label, phrase in candidates:
            stop = _match_at(tokens, i, limit, phrase)
            if stop > 0:
                out.append((label, stop))
        return out

    def ending_before(self, tokens: _Tokens, i: int) -> list[tuple[str, int]]:
        """(label, index of the first word) for every phrase ending right before token ``i``."""
        if i <= 0:
            return []
        out = []
        for label, phrase in self.candidates(tokens.norms[i - 1]):
            start = i - len(phrase[0])
            if start >= 0 and _match_at(tokens, start, i, phrase) == i:
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
    decimal: str
    thousands: str
    words: dict[str, int]
    vague: dict[str, tuple[int, str]]
    scales: dict[str, int]
    counted: frozenset[str]  # number words and vague quantities: what ``_numbers`` looks for


class _Number(NamedTuple):
    start: int
    end: int
    value: int
    qualifier: str | None


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
            number = re.compile(rf"(?<![\w.,])(\d{{1,3}}(?:{group}\d{{3}})+|\d+(?:[.,]\d+)?)(?!\w)")
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
                decimal=decimal,
                thousands=thousands,
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
        tokens = _Tokens(doc.token_norms, doc.token_starts, doc.token_ends)
        starts = tokens.starts
        out: list[Figure] = []
        for number in self._numbers(doc, lang, tokens, starts):
            after = bisect.bisect_left(starts, number.end)
            before = bisect.bisect_left(starts, number.start)
            found = self._kind_after(doc, lang, tokens, after)
            if found is None and not self._unit_at(lang, tokens, after, doc):
                found = self._kind_before(doc, lang, tokens, before)
            if found is None:
                continue
            kind, lo, hi = found
            start = min(lo, number.start)
            qualifier = number.qualifier
            q_start = self._qualifier(doc, lang, tokens, before)
            if q_start is not None:
                qualifier, q_pos = q_start
                start = min(start, q_pos)
            end = max(hi, number.end)
            if number.value >= 1800 and number.value <= 2100 and qualifier is None:
                if not (lo >= number.end and doc.text[number.end : lo].strip() == ""):
                    continue  # a year, not a count
            out.append(
                Figure(
                    kind=kind,
                    value=number.value,
                    qualifier=qualifier,
                    surface=doc.text[start:end],
                    span=Span(start, end),
                    sentence=doc.sentence_text(number.start),
                )
            )
        return tuple(out)

    def _numbers(
        self, doc: Document, lang: _Language, tokens: _Tokens, starts: list[int]
    ) -> list[_Number]:
        found: list[_Number] = []
        taken: set[int] = set()
        folded = doc.folded
        reach = 0
        for at in _digit_starts(tokens.norms, starts):
            if at < reach:
                continue
            m = lang.number.match(folded, at)
            if m is None:
                continue
            reach = m.end()
            value = self._parse_digits(m.group(1), lang)
            end = m.end()
            i = bisect.bisect_left(starts, end)
            if i < len(tokens.norms) and tokens.norms[i] in lang.scales:
                if _adjacent(doc, end, tokens.starts[i]):
                    value *= lang.scales[tokens.norms[i]]
                    end = tokens.ends[i]
                    taken.add(i)
            if value >= 1:
                found.append(_Number(m.start(), end, int(value), None))
        counted = lang.counted
        norms = tokens.norms
        words = (
            [] if counted.isdisjoint(norms) else [i for i, n in enumerate(norms) if n in counted]
        )
        for i in words:
            if i in taken:
                continue
            norm = tokens.norms[i]
            if norm in lang.vague:
                value, qualifier = lang.vague[norm]
                found.append(_Number(tokens.starts[i], tokens.ends[i], value, qualifier))
            elif norm in lang.words:
                value = lang.words[norm]
                end = tokens.ends[i]
                if i + 1 < len(tokens.norms):
                    nxt = tokens.norms[i + 1]
                    if nxt in lang.scales and _adjacent(doc, end, tokens.starts[i + 1]):
                        value *= lang.scales[nxt]
                        end = tokens.ends[i + 1]
                        taken.add(i + 1)
                found.append(_Number(tokens.starts[i], end, value, None))
        found.sort(key=lambda n: n.start)
        return found

    @staticmethod
    def _parse_digits(raw: str, lang: _Language) -> float:
        if len(raw) > 4 and any(c in lang.thousands for c in raw) and raw[-4] in lang.thousands:
            if not (raw.count(lang.decimal) == 1 and lang.decimal not in lang.thousands):
                return float(re.sub(r"\D", "", raw))
        return float(raw.replace(lang.decimal, ".").replace(",", ""))

    def _reach(self, doc: Document, lang: _Language, tokens: _Tokens, i: int, n: int) -> int:
        """Tokens from ``i`` that stay in reach: no punctuation, no next number."""
        last = min(len(tokens.norms), i + n)
        if i >= last:
            return i
        # Tokens hold no punctuation, so one search finds the first stop in the character right
        # before token ``i`` or in a gap between the tokens up to ``last``.
        stop = _STOP_GAP.search(doc.folded, max(0, tokens.starts[i] - 1), tokens.starts[last - 1])
        if stop is not None:
            if stop.start() < tokens.starts[i]:
                return i
            last = bisect.bisect_right(tokens.starts, stop.start(), i, last)
        for end in range(i, last):
            norm = tokens.norms[end]
            if norm.isdigit() or norm in lang.words or norm in lang.vague:
                return end
        return last

    def _kind_after(
        self, doc: Document, lang: _Language, tokens: _Tokens, i: int
    ) -> tuple[str, int, int] | None:
        limit = self._reach(doc, lang, tokens, i, REACH_AFTER)
        norms = tokens.norms
        idle = lang.people.idle
        for j in range(i, limit):
            if norms[j] not in idle and lang.people.starting_at(tokens, j, limit):
                limit = self._reach(doc, lang, tokens, i, j - i + 1 + REACH_PEOPLE)
                break
        first: tuple[str, int, int] | None = None
        idle = lang.kinds.idle
        for j in range(i, limit):
            if norms[j] in idle:
                continue
            for kind, stop in lang.kinds.starting_at(tokens, j, limit):
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
    def _unit_at(lang: _Language, tokens: _Tokens, i: int, doc: Document) -> bool:
        if i >= len(tokens.norms):
            return False
        return bool(lang.units.starting_at(tokens, i, len(tokens.norms)))

    @staticmethod
    def _qualifier(
        doc: Document, lang: _Language, tokens: _Tokens, i: int
    ) -> tuple[str, int] | None:
        for qualifier, j in lang.qualifiers.ending_before(tokens, i):
            if not _STOP_GAP.search(doc.folded, tokens.starts[j], tokens.ends[i - 1] + 1):
                return qualifier, tokens.starts[j]
        return None


def _digit_starts(norms: list[str], starts: list[int]) -> list[int]:
    """Where a number may start: a token starting with a digit, or a digit right after the
    apostrophe inside a token ("l'12"). The number pattern needs no word character, dot or comma
    before it, so it cannot start anywhere else; trying it only there is much cheaper than
    letting the regex engine try every character of the text."""
    out: list[int] = []
    for i in [i for i, n in enumerate(norms) if n[0].isdecimal() or "'" in n]:
        norm = norms[i]
        if norm[0].isdecimal():
            out.append(starts[i])
        k = norm.find("'") + 1
        if k and norm[k : k + 1].isdecimal():
            out.append(starts[i] + k)
    return out


def _adjacent(doc: Document, end: int, start: int) -> bool:
    return doc.folded[end:start].strip() == ""
