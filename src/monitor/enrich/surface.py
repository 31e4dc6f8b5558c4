"""Surface-form matching shared by the enrichers: one Aho-Corasick automaton over folded text.

A *form* is written in a data file the way it appears in text, and its spelling says how it
matches (one rule for countries, organisations and role words alike):

- ``ALL CAPS`` (two letters or more, e.g. ``EU``, ``UN``, ``ОДКБ``): only when the text has it
  in capitals too, so French *un* and Portuguese *eu* stay words;
- ``Capitalised`` (e.g. ``Rusland``, ``Wagner``): only when the text starts it with a capital;
- ``lower case`` (e.g. ``russe``, ``российские``): in any case.

A trailing ``*`` makes the form a stem: it matches when followed by at most ``max_extra`` more
letters (Russian and Polish case endings, Dutch ``Russisch*`` -> *Russische*). Stems shorter
than four letters are refused at load time: they would match half the dictionary.

Matches must start and end on word boundaries; overlapping matches resolve to the leftmost,
then longest (*Zuid-Soedan* beats *Soedan*). Offsets are into the original text, because
folding preserves length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import islice
from operator import attrgetter, le
from typing import Any, Generic, NamedTuple, TypeVar

import ahocorasick_rs

from monitor.errors import ConfigError
from monitor.text import fold

T = TypeVar("T")

ANY, CAPITALISED, CAPS = 0, 1, 2
MIN_STEM = 4
_ALNUM_RUN = re.compile(r"[^\W_]*")  # what str.isalnum accepts, character by character


class Hit(NamedTuple, Generic[T]):
    """One match: ``[start, end)`` in the text, and the value the form was registered with."""

    start: int
    end: int
    value: T


class _Entry(NamedTuple, Generic[T]):
    value: T
    case: int
    stem: bool


def case_of(form: str) -> int:
    letters = [c for c in form if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return CAPS
    if letters and letters[0].isupper():
        return CAPITALISED
    return ANY


def _all_caps(surface: str) -> bool:
    """Every letter of ``surface`` is a capital."""
    if surface.isascii():  # the ASCII letters are a-z and A-Z: no a-z, then
        return surface.upper() == surface
    return all(not c.isalpha() or c.isupper() for c in surface)


def form_key(form: str) -> str:
    """The key a data form is found by: folded, without the stem's trailing ``*``."""
    return fold(form.strip().removesuffix("*"))


class SurfaceMatcher(Generic[T]):
    """Finds registered forms in a document's folded text (build once, share across articles)."""

    def __init__(self, max_extra: int = 4) -> None:
        self._automaton: _Automaton | None = None
        self._entries: dict[str, list[_Entry[T]]] = {}
        self._max_extra = max_extra

    def add(self, form: str, value: T, *, origin: str = "data") -> None:
        form = form.strip()
        stem = form.endswith("*")
        if stem:
            form = form[:-1]
        key = form_key(form)
        if not key or len(key) != len(form):
            raise ConfigError(origin, f"empty or unfoldable form {form!r}")
        if stem and len(key) < MIN_STEM:
            raise ConfigError(origin, f"stem {form!r}* is shorter than {MIN_STEM} letters")
        entries = self._entries.setdefault(key, [])
        entry = _Entry(value, case_of(form), stem)
        if entry not in entries:
            entries.append(entry)
        self._automaton = None

    def add_all(self, forms: Iterable[str], value: T, *, origin: str = "data") -> None:
        for form in forms:
            self.add(form, value, origin=origin)

    def __len__(self) -> int:
        return len(self._entries)

    def build(self) -> _Automaton:
        self._automaton = _automaton(
            {key: [(0, *e) for e in es] for key, es in self._entries.items()}
        )
        return self._automaton

    def find(self, text: str, folded: str) -> list[Hit[T]]:
        """Leftmost-longest, non-overlapping hits of the registered forms."""
        automaton = self._automaton if self._automaton is not None else self.build()
        hits: list[Hit[T]] = _scan(automaton, text, folded, (self._max_extra,))[0]
        return hits


class SurfaceScanner:
    """The forms of several matchers in one automaton: one pass over the text finds the hits of
    all of them, each matcher's resolved on its own exactly as its ``find`` would.

    Scanning costs ~10 ns a character whatever the number of forms, so the enrichers of an
    article share one pass instead of making one each.
    """

    def __init__(self, matchers: Sequence[SurfaceMatcher[Any]]) -> None:
        merged: dict[str, list[tuple[int, Any, int, bool]]] = {}
        for channel, matcher in enumerate(matchers):
            for key, entries in matcher._entries.items():
                merged.setdefault(key, []).extend((channel, *e) for e in entries)
        self._automaton = _automaton(merged)
        self._max_extra = tuple(m._max_extra for m in matchers)

    def find(self, text: str, folded: str) -> list[list[Hit[Any]]]:
        """One list of hits per matcher, in the order the matchers were given."""
        return _scan(self._automaton, text, folded, self._max_extra)


_Entries = tuple[tuple[int, Any, int, bool], ...]


class _Automaton(NamedTuple):
    """The keys in ahocorasick-rs (one call per text returns every match as a list, where
    pyahocorasick yields to Python match by match: about half the cost), and per key index its
    ``(channel, value, case, stem)`` entries."""

    search: ahocorasick_rs.AhoCorasick
    entries: list[_Entries]


def _automaton(entries: dict[str, list[tuple[int, Any, int, bool]]]) -> _Automaton:
    keys = list(entries)
    return _Automaton(ahocorasick_rs.AhoCorasick(keys), [tuple(entries[k]) for k in keys])


def _scan(
    automaton: _Automaton, text: str, folded: str, max_extra: tuple[int, ...]
) -> list[list[Hit[Any]]]:
    """Hits on word boundaries (with the case their form asks for) per channel, resolved
    leftmost-longest."""
    size = len(folded)
    candidates: list[list[Hit[Any]]] = [[] for _ in max_extra]
    entries = automaton.entries
    new = tuple.__new__  # builds the named tuple in C (no Python-level __new__ call)
    # overlapping: every occurrence of every key (character offsets), resolved below
    for index, start, end in automaton.search.find_matches_as_indexes(folded, overlapping=True):
        # most matches sit inside a word ("eu" in "nieuwe"): one test for all entries of the key
        if start and folded[start - 1].isalnum():
            continue
        inside = end < size and folded[end].isalnum()  # the word goes on after the key
        for channel, value, case, stem in entries[index]:
            if not inside:
                stop = end
            elif stem:  # to the end of the letters and digits
                run = _ALNUM_RUN.match(folded, end)  # always matches
                stop = run.end() if run is not None else end
                if stop - end > max_extra[channel]:
                    continue
            else:
                continue
            if case:
                if case == CAPITALISED:
                    if not text[start].isupper():
                        continue
                elif not _all_caps(text[start:stop]):
                    continue
            candidates[channel].append(new(Hit, (start, stop, value)))
    return [_resolve(found) for found in candidates]


def _resolve(candidates: list[Hit[Any]]) -> list[Hit[Any]]:
    """Leftmost, then longest, of overlapping hits."""
    if len(candidates) < 2:
        return candidates
    # leftmost, then longest: by end descending, then (stable) by start, with C-level keys
    candidates.sort(key=_END, reverse=True)
    candidates.sort(key=_START)
    # most hits overlap none: then every one is kept (checked in C, pair by pair)
    if all(map(le, map(_END, candidates), map(_START, islice(candidates, 1, None)))):
        return candidates
    out: list[Hit[Any]] = []
    reach = -1
    for hit in candidates:
        if hit.start >= reach:
            out.append(hit)
            reach = hit.end
    return out


_START, _END = attrgetter("start"), attrgetter("end")


class WordSet:
    """Folded single words and ``stem*`` prefixes, for cue words checked token by token."""

    def __init__(self, words: Iterable[str], *, max_extra: int = 4) -> None:
        exact: set[str] = set()
        stems: set[str] = set()
        for word in words:
            if word.endswith("*"):
                stems.add(fold(word[:-1]))
            else:
                exact.add(fold(word))
        self._exact = frozenset(exact)
        self._stems = tuple(sorted(stems))
        self._max_extra = max_extra
        # answers by token: news vocabulary repeats, and a lookup beats a pass over the stems
        self._known: dict[str, bool] = {}

    _KNOWN_SIZE = 50_000

    def __contains__(self, token: object) -> bool:
        if not isinstance(token, str):
            return False
        found = self._known.get(token)
        if found is None:
            if len(self._known) > self._KNOWN_SIZE:
                self._known.clear()
            found = self._known[token] = token in self._exact or any(
                token.startswith(stem) and len(token) - len(stem) <= self._max_extra
                for stem in self._stems
            )
        return found
