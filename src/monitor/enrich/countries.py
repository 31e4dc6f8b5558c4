"""Countries: ISO 3166-1 alpha-2 codes from names, adjectives and demonyms, with roles.

Names come from CLDR (Babel's ``Locale(lang).territories``) for every supported language;
adjectives, demonyms and other names come from ``data/countries.yaml`` (CLDR has none). For
Russian and Polish, names become stems so case endings match (*Казахстана*, *Rosji*).

Roles, so a rule can ask "who did what where":

- ``location``: the country with the highest score, where each mention counts 1, plus 2 when it
  follows a locative preposition of the language (*in*, *naar*, *в*, *en*, *nach*...), plus 1 in
  the title and lead (first two sentences). Ties go to the country named more often after a
  locative (*Chad flies troops into the Central African Republic ... Chadian soldiers*: the
  Central African Republic), then to the earliest mention. The place an event
  happens is named often and after "in"; the countries acting on it are named less, and mostly
  as adjectives (*Russische troepen*).
- ``actor``: every other country mentioned, and the location too when one of its mentions sits
  next to an actor cue (*troops*, *president*, *stuurde*...): the location's own forces act too.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import babel
import pycountry

from monitor.alert import Country, Mention, Span
from monitor.enrich import data
from monitor.enrich.surface import Hit, SurfaceMatcher, WordSet
from monitor.errors import ConfigError
from monitor.text import Document

DATA_FILE = "countries.yaml"
LEAD_SENTENCES = 2
LOCATIVE_BONUS = 2.0
LEAD_BONUS = 1.0
# Articles that may sit between a locative preposition and the name ("in het", "in der").
_ARTICLES = frozenset("het de der dem den the la le les el los las il lo o a os as".split())

# XK (Kosovo) is user-assigned in ISO 3166 but what CLDR and the news use.
ISO_CODES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}


class CountryHit(NamedTuple):
    code: str
    start: int
    end: int


@dataclass(frozen=True)
class _Language:
    matcher: SurfaceMatcher[str]
    locative: WordSet
    actor_cues: WordSet


class CountryFinder:
    """Country mentions and roles in one language family of forms (built once at startup)."""

    def __init__(self, languages: Mapping[str, _Language], names: Mapping[str, str]) -> None:
        self._languages = dict(languages)
        self._names = dict(names)

    @classmethod
    def load(cls, languages: Iterable[str], extra_data_dir: Path | None = None) -> CountryFinder:
        raw = data.load(DATA_FILE, extra_data_dir)
        settings: dict[str, Any] = raw.get("languages") or {}
        forms: dict[str, Any] = raw.get("forms") or {}
        unknown = sorted(set(forms) - ISO_CODES)
        if unknown:
            raise ConfigError(DATA_FILE, f"unknown ISO 3166 codes: {', '.join(unknown)}")
        english = babel.Locale("en").territories
        names = {code: english.get(code, code) for code in ISO_CODES}
        built: dict[str, _Language] = {}
        for lang in languages:
            conf: dict[str, Any] = settings.get(lang) or {}
            origin = f"{DATA_FILE}: languages.{lang}"
            matcher: SurfaceMatcher[str] = SurfaceMatcher()
            territories = babel.Locale(lang).territories
            suffixes = data.strings(conf.get("name_suffixes"), origin)
            endings = data.strings(conf.get("stem_names"), origin)
            # in code order, not set order: which of two equal forms wins (a stem of Nigeria is
            # Niger's name) must not depend on the process's hash seed
            for code in sorted(ISO_CODES):
                name = territories.get(code)
                if name:
                    for form in _name_forms(name, suffixes, endings):
                        matcher.add(form, code, origin=f"CLDR {lang} {code}")
            plurals = _plurals(conf.get("stem_plurals"), origin)
            for code, per_lang in forms.items():
                if not isinstance(per_lang, dict):
                    raise ConfigError(DATA_FILE, f"forms.{code}: expected a mapping by language")
                where = f"{DATA_FILE}: forms.{code}.{lang}"
                written = data.strings(per_lang.get(lang), where)
                matcher.add_all(_with_plurals(written, plurals), code, origin=where)
            matcher.build()
            built[lang] = _Language(
                matcher,
                WordSet(data.strings(conf.get("locative"), origin)),
                WordSet(data.strings(conf.get("actor_cues"), origin)),
            )
        return cls(built, names)

    def name(self, code: str) -> str:
        return self._names.get(code, code)

    def _language(self, language: str) -> _Language | None:
        return self._languages.get(language) or self._languages.get("en")

    def matcher(self, language: str) -> SurfaceMatcher[str] | None:
        """The forms ``hits`` looks for in a document of ``language``."""
        lang = self._language(language)
        return lang.matcher if lang is not None else None

    def hits(self, doc: Document, found: list[Hit[str]] | None = None) -> list[CountryHit]:
        """Every country mention, in text order (``found``: the matcher's hits, if scanned)."""
        if found is None:
            lang = self._language(doc.language)
            if lang is None:
                return []
            found = lang.matcher.find(doc.text, doc.folded)
        return [CountryHit(h.value, h.start, h.end) for h in found]

    def countries(self, doc: Document, hits: list[CountryHit]) -> tuple[Country, ...]:
        """Countries with mentions and roles, the location first, then by first mention."""
        lang = self._language(doc.language)
        if lang is None or not hits:
            return ()
        by_code: dict[str, list[CountryHit]] = {}
        for hit in hits:
            by_code.setdefault(hit.code, []).append(hit)
        # both the location score and the actor cue ask whether a mention follows a locative
        locative = {h.start for h in hits if self._after_locative(doc, lang, h)}
        location = self._location(doc, by_code, locative)
        out: list[Country] = []
        for code, mentions in by_code.items():
            roles: list[str] = []
            if code == location:
                roles.append("location")
                if any(self._has_actor_cue(doc, lang, h, h.start in locative) for h in mentions):
                    roles.append("actor")
            else:
                roles.append("actor")
            out.append(
                Country(
                    code=code,
                    name=self.name(code),
                    roles=tuple(roles),
                    mentions=tuple(
                        Mention(doc.text[h.start : h.end], Span(h.start, h.end)) for h in mentions
                    ),
                )
            )
        out.sort(key=lambda c: (c.code != location, c.mentions[0].span.start))
        return tuple(out)

    @staticmethod
    def _location(
        doc: Document, by_code: dict[str, list[CountryHit]], locative: set[int]
    ) -> str | None:
        lead_end = doc.sentences[min(LEAD_SENTENCES, len(doc.sentences)) - 1][1]
        best: tuple[float, int, int, str] | None = None
        for code, mentions in by_code.items():
            score = 0.0
            places = 0
            for hit in mentions:
                score += 1.0
                if hit.start in locative:
                    score += LOCATIVE_BONUS
                    places += 1
                if hit.start < lead_end:
                    score += LEAD_BONUS
            key = (score, places, -mentions[0].start, code)
            if best is None or key > best:
                best = key
        return best[-1] if best else None

    @staticmethod
    def _after_locative(doc: Document, lang: _Language, hit: CountryHit) -> bool:
        starts = doc.token_starts
        i = bisect_left(starts, hit.start)
        if i >= len(starts) or starts[i] != hit.start:
            return False
        norms = doc.token_norms
        for back in (1, 2):
            if i - back < 0:
                return False
            word = norms[i - back]
            if word in lang.locative:
                return True
            if word not in _ARTICLES:
                return False
        return False

    @staticmethod
    def _has_actor_cue(doc: Document, lang: _Language, hit: CountryHit, locative: bool) -> bool:
        starts, norms = doc.token_starts, doc.token_norms
        first = doc.token_index(hit.start)
        last = doc.token_index(max(hit.start, hit.end - 1))
        lo, hi = doc.sentence_span(hit.start)
        # "troops in Kazakhstan": a cue before a locative preposition belongs to someone else.
        before = range(first, first) if locative else range(max(0, first - 2), first)
        after = range(last + 1, min(last + 4, len(starts)))
        cues = lang.actor_cues
        for r in (before, after):
            for k in r:
                if lo <= starts[k] < hi and norms[k] in cues:
                    return True
        return False


def _name_forms(name: str, suffixes: list[str], endings: list[str]) -> list[str]:
    """A CLDR name and the variants the language's settings derive from it."""
    forms = [name]
    if " - " in name:  # "Congo - Kinshasa" is CLDR's disambiguation, also written with a hyphen
        forms.append(name.replace(" - ", "-"))
    out = list(forms)
    for form in forms:
        out.extend(form + suffix for suffix in suffixes)
        if endings:
            out.append(_stem(form, endings))
    return out


def _plurals(value: Any, origin: str) -> list[tuple[str, str]]:
    """``stem_plurals`` as (stem ending, plural ending) pairs, the longest ending first."""
    if value is None:
        return []
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(origin, f"stem_plurals: expected a mapping of endings, got {value!r}")
    return sorted(value.items(), key=lambda kv: len(kv[0]), reverse=True)


def _with_plurals(forms: list[str], plurals: list[tuple[str, str]]) -> list[str]:
    """The forms, and for each stem ending in one of ``plurals``' endings the plural it makes
    (Polish ``polsk*`` -> *polscy*: the plural a stem's letters do not begin)."""
    out = list(forms)
    for form in forms:
        if not form.endswith("*"):
            continue
        stem = form[:-1]
        for ending, plural in plurals:
            if stem.endswith(ending):
                out.append(stem[: -len(ending)] + plural)
                break
    return out


def _stem(name: str, endings: list[str]) -> str:
    for ending in sorted(endings, key=len, reverse=True):
        if name.endswith(ending) and len(name) - len(ending) >= 4:
            return name[: -len(ending)] + "*"
    if len(name) >= 4 and name[-1].isalpha():
        return name + "*"
    return name
