"""Organisations from a multilingual alias table (``data/organisations.yaml``).

One automaton holds every alias of every language: names of organisations rarely collide across
languages, and an article in one language names them in another (*NATO* in Dutch text). The
danger is short acronyms that are words elsewhere (French *un*, Portuguese *eu*, English *who*):
aliases written in capitals match only in capitals (see ``surface``), and a capitals match inside
a run of capitals (a shouted headline: "THE UN WHO CAME") is dropped, because there every word is
in capitals and capitals prove nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from monitor.alert import Mention, Organisation, Span
from monitor.enrich import data
from monitor.enrich.surface import CAPS, Hit, SurfaceMatcher, case_of
from monitor.errors import ConfigError
from monitor.text import Document

DATA_FILE = "organisations.yaml"
_WINDOW = 40  # characters looked at on each side of a capitals match
_WORD = re.compile(r"\w+")
_WORD_AFTER = re.compile(r"[ \t]+(\w+)")


class OrganisationFinder:
    """Organisation mentions grouped by key (built once at startup)."""

    def __init__(self, matcher: SurfaceMatcher[tuple[str, bool]], names: dict[str, str]) -> None:
        self._matcher = matcher
        self._names = names

    @classmethod
    def load(cls, extra_data_dir: Path | None = None) -> OrganisationFinder:
        raw = data.load(DATA_FILE, extra_data_dir)
        table: dict[str, Any] = raw.get("organisations") or {}
        matcher: SurfaceMatcher[tuple[str, bool]] = SurfaceMatcher()
        names: dict[str, str] = {}
        for key, entry in table.items():
            where = f"{DATA_FILE}: organisations.{key}"
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ConfigError(where, "expected a mapping with a 'name' and 'aliases'")
            names[str(key)] = entry["name"]
            for alias in data.strings(entry.get("aliases"), where):
                matcher.add(alias, (str(key), case_of(alias) == CAPS), origin=where)
        matcher.build()
        return cls(matcher, names)

    def name(self, key: str) -> str:
        return self._names.get(key, key)

    @property
    def matcher(self) -> SurfaceMatcher[tuple[str, bool]]:
        """The aliases ``organisations`` looks for, in every language."""
        return self._matcher

    def organisations(
        self, doc: Document, found: list[Hit[tuple[str, bool]]] | None = None
    ) -> tuple[Organisation, ...]:
        """Organisations in order of first mention, each with all its mentions (``found``: the
        matcher's hits, if scanned)."""
        if found is None:
            found = self._matcher.find(doc.text, doc.folded)
        grouped: dict[str, list[Mention]] = {}
        for hit in found:
            key, caps_only = hit.value
            if caps_only and _in_caps_run(doc.text, hit.start, hit.end):
                continue
            mention = Mention(doc.text[hit.start : hit.end], Span(hit.start, hit.end))
            grouped.setdefault(key, []).append(mention)
        return tuple(
            Organisation(key=key, name=self.name(key), mentions=tuple(mentions))
            for key, mentions in grouped.items()
        )


def _is_caps_word(word: str | None) -> bool:
    return word is not None and len(word) > 1 and word.isupper()


def _in_caps_run(text: str, start: int, end: int) -> bool:
    """Capitals on both sides (or one side, at the start or end of a line), spaces between."""
    before = _word_before(text, max(0, start - _WINDOW), start)
    after = _WORD_AFTER.match(text, end, end + _WINDOW)
    neighbours = [w for w in (before, after and after.group(1)) if w is not None]
    return bool(neighbours) and all(_is_caps_word(w) for w in neighbours)


def _word_before(text: str, lo: int, hi: int) -> str | None:
    """The word followed by spaces or tabs up to the end of ``text[lo:hi]`` (or up to a newline
    ending it), as ``(\\w+)[ \\t]+$`` finds it there, without trying the pattern at every
    position."""
    if hi > lo and text[hi - 1] == "\n":  # ``$`` also matches before a final newline
        hi -= 1
    blanks = hi
    while blanks > lo and text[blanks - 1] in " \t":
        blanks -= 1
    if blanks == hi:
        return None
    word = _WORD.match(text[lo:blanks][::-1])  # the word characters ending there
    return word.group()[::-1] if word is not None else None
