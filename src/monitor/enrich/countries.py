"""Countries: ISO 3166-1 alpha-2 codes from names, adjectives, demonyms and places, with roles.

Names come from CLDR (Babel's ``Locale(lang).territories``) for every supported language;
adjectives, demonyms and other names come from ``data/countries.yaml`` (CLDR has none). For
Russian and Polish, names become stems so case endings match (*Казахстана*, *Rosji*).

Places name their country too (*Mogadishu*, *Goma*, *Nordirak*, *Донецк*): the exemplar cities
of CLDR's time zones (capitals and large cities, translated in every language; Babel's
``get_timezone_location``) and the cities and regions of ``data/places.yaml``. A place mention
is found in the same scan as the names and is a mention of its country, as a name is.

Roles, so a rule can ask "who did what where":

- ``location``: the country with the highest score, where each mention counts 1, plus 2 when it
  follows a locative preposition of the language (*in*, *naar*, *в*, *en*, *nach*...), plus 1 in
  the title and lead (first two sentences). Ties go to the country named more often after a
  locative (*Chad flies troops into the Central African Republic ... Chadian soldiers*: the
  Central African Republic), then to the earliest mention. The place an event
  happens is named often and after "in"; the countries acting on it are named less, and mostly
  as adjectives (*Russische troepen*). A city or region counts as its country's name does: it
  says where as strongly (*in Goma*), and the country acting is named by its adjective or name.
  A capital (CLDR's cities are mostly capitals) counts half, bonuses included: it stands for its
  government (*Moscow said*, *the ministry in The Hague*) and for datelines as often as for the
  place of the event.
- ``actor``: every other country named, and the location too when one of its mentions sits
  next to an actor cue (*troops*, *president*, *stuurde*...): the location's own forces act too.
  A country only a place names (*fled to Nairobi*) is an actor only when one of those mentions
  sits next to an actor cue (*Moscow sent*, a capital for its government); otherwise it has no
  role, and ``Enrichment.country_mentions`` leaves it out: a place is where, not who.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import babel
import babel.core
import babel.dates
import pycountry

from monitor.alert import Country, Mention, Span
from monitor.enrich import data
from monitor.enrich.surface import Hit, SurfaceMatcher, WordSet, form_key
from monitor.errors import ConfigError
from monitor.text import Document

DATA_FILE = "countries.yaml"
PLACES_FILE = "places.yaml"
NAME_WEIGHT = 1.0
LEAD_SENTENCES = 2
LOCATIVE_BONUS = 2.0
LEAD_BONUS = 1.0
# What a mention adds to its country's location score, bonuses included, relative to a name's.
# A city or region names where things happen as its country's name does ("in Goma" as "in
# Congo"); a capital (and CLDR's exemplar cities, mostly capitals) is as often its government
# ("Moscow said", "tensions between Caracas and Guyana", "the ministry in The Hague") or a
# dateline ("MOSCOW - ... Russian troops left Karabakh") as where things happen: half.
PLACE_WEIGHT = 1.0
CAPITAL_WEIGHT = 0.5
# Articles that may sit between a locative preposition and the name ("in het", "in der").
_ARTICLES = frozenset("het de der dem den the la le les el los las il lo o a os as".split())

# XK (Kosovo) is user-assigned in ISO 3166 but what CLDR and the news use.
ISO_CODES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}


class CountryHit(NamedTuple):
    code: str
    start: int
    end: int
    weight: float = NAME_WEIGHT  # NAME_WEIGHT for a name or adjective; a place's is its own
    place: bool = False  # a city or region of the country, not its name, adjective or demonym


# the matcher's value for a form: (ISO code, its weight, whether it is a place)
CountryForm = tuple[str, float, bool]

# a mention, the index of the token it starts in, and whether it follows a locative
_Placed = tuple[CountryHit, int, bool]


@dataclass(frozen=True)
class _Language:
    matcher: SurfaceMatcher[CountryForm]
    locative: WordSet
    actor_cues: WordSet


class CountryFinder:
    """Country mentions and roles in one language family of forms (built once at startup)."""

    def __init__(
        self,
        languages: Mapping[str, _Language],
        names: Mapping[str, str],
        homes: Mapping[str, str] | None = None,
    ) -> None:
        self._languages = dict(languages)
        self._names = dict(names)
        # territory -> the state it belongs to (``territories`` in countries.yaml)
        self.homes: Mapping[str, str] = dict(homes or {})

    @classmethod
    def load(cls, languages: Iterable[str], extra_data_dir: Path | None = None) -> CountryFinder:
        raw = data.load(DATA_FILE, extra_data_dir)
        settings: dict[str, Any] = raw.get("languages") or {}
        forms: dict[str, Any] = raw.get("forms") or {}
        unknown = sorted(set(forms) - ISO_CODES)
        if unknown:
            raise ConfigError(DATA_FILE, f"unknown ISO 3166 codes: {', '.join(unknown)}")
        homes = _homes(raw.get("territories") or {})
        places = _Places.load(extra_data_dir)
        english = babel.Locale("en").territories
        names = {code: english.get(code, code) for code in ISO_CODES}
        built: dict[str, _Language] = {}
        for lang in languages:
            conf: dict[str, Any] = settings.get(lang) or {}
            origin = f"{DATA_FILE}: languages.{lang}"
            matcher: SurfaceMatcher[CountryForm] = SurfaceMatcher()
            territories = babel.Locale(lang).territories
            suffixes = data.strings(conf.get("name_suffixes"), origin)
            endings = data.strings(conf.get("stem_names"), origin)
            named: set[str] = set()  # folded name forms: a place spelled as a name is the name
            # CLDR names that are everyday words or first names in this language (Spanish
            # "Reunión", French "Dominique"): left out, as places.yaml leaves out such cities
            not_names = frozenset(data.strings(conf.get("not_names"), origin))
            # in code order, not set order: which of two equal forms wins (a stem of Nigeria is
            # Niger's name) must not depend on the process's hash seed
            for code in sorted(ISO_CODES):
                name = territories.get(code)
                if name and name not in not_names:
                    for form in _name_forms(name, suffixes, endings):
                        matcher.add(form, (code, NAME_WEIGHT, False), origin=f"CLDR {lang} {code}")
                        named.add(form_key(form))
            plurals = _plurals(conf.get("stem_plurals"), origin)
            for code, per_lang in forms.items():
                if not isinstance(per_lang, dict):
                    raise ConfigError(DATA_FILE, f"forms.{code}: expected a mapping by language")
                where = f"{DATA_FILE}: forms.{code}.{lang}"
                for form in _with_plurals(data.strings(per_lang.get(lang), where), plurals):
                    matcher.add(form, (code, NAME_WEIGHT, False), origin=where)
                    named.add(form_key(form))
            for form, code, weight, where in places.forms(lang, suffixes, endings, not_names):
                if form_key(form) not in named:
                    matcher.add(form, (code, weight, True), origin=where)
            matcher.build()
            built[lang] = _Language(
                matcher,
                WordSet(data.strings(conf.get("locative"), origin)),
                WordSet(data.strings(conf.get("actor_cues"), origin)),
            )
        return cls(built, names, homes)

    def name(self, code: str) -> str:
        return self._names.get(code, code)

    def _language(self, language: str) -> _Language | None:
        return self._languages.get(language) or self._languages.get("en")

    def matcher(self, language: str) -> SurfaceMatcher[CountryForm] | None:
        """The forms ``hits`` looks for in a document of ``language``."""
        lang = self._language(language)
        return lang.matcher if lang is not None else None

    def hits(self, doc: Document, found: list[Hit[CountryForm]] | None = None) -> list[CountryHit]:
        """Every country mention, places too, in text order (``found``: the matcher's hits, if
        scanned)."""
        if found is None:
            lang = self._language(doc.language)
            if lang is None:
                return []
            found = lang.matcher.find(doc.text, doc.folded)
        return [CountryHit(h.value[0], h.start, h.end, *h.value[1:]) for h in found]

    def countries(self, doc: Document, hits: list[CountryHit]) -> tuple[Country, ...]:
        """Countries with mentions and roles, the location first, then by first mention."""
        lang = self._language(doc.language)
        if lang is None or not hits:
            return ()
        # One pass over the mentions finds each one's token (the locative and the actor cue
        # both read it) and whether it follows a locative (the location score and the cue do).
        starts, norms = doc.token_starts, doc.token_norms
        count = len(starts)
        locatives = lang.locative
        by_code: dict[str, list[_Placed]] = {}
        for hit in hits:
            i = bisect_left(starts, hit.start)
            if i < count and starts[i] == hit.start:
                placed = (hit, i, i > 0 and _after_locative(norms, i, locatives))
            else:  # it starts inside a token ("l'Ukraine"): no word of its own before it
                placed = (hit, max(i - 1, 0), False)
            by_code.setdefault(hit.code, []).append(placed)
        location = self._location(doc, by_code)
        out: list[Country] = []
        for code, mentions in by_code.items():
            roles: list[str] = []
            if code == location:
                roles.append("location")
                if self._near_cue(doc, lang, mentions):
                    roles.append("actor")
            elif any(not h.place for h, _, _ in mentions) or self._near_cue(doc, lang, mentions):
                roles.append("actor")
            out.append(
                Country(
                    code=code,
                    name=self.name(code),
                    roles=tuple(roles),
                    mentions=tuple(
                        Mention(doc.text[h.start : h.end], Span(h.start, h.end))
                        for h, _, _ in mentions
                    ),
                )
            )
        out.sort(key=lambda c: (c.code != location, c.mentions[0].span.start))
        return tuple(out)

    @staticmethod
    def _location(doc: Document, by_code: dict[str, list[_Placed]]) -> str | None:
        lead_end = doc.sentences[min(LEAD_SENTENCES, len(doc.sentences)) - 1][1]
        best: tuple[float, int, int, str] | None = None
        for code, mentions in by_code.items():
            score = 0.0
            places = 0
            for hit, _, locative in mentions:
                points = 1.0
                if locative:
                    points += LOCATIVE_BONUS
                    places += 1
                if hit.start < lead_end:
                    points += LEAD_BONUS
                score += points * hit.weight
            key = (score, places, -mentions[0][0].start, code)
            if best is None or key > best:
                best = key
        return best[-1] if best else None

    @staticmethod
    def _near_cue(doc: Document, lang: _Language, mentions: list[_Placed]) -> bool:
        """An actor cue in a mention's sentence, within 2 tokens before it (none when it follows
        a locative: "troops in Kazakhstan", that cue is someone else's) or 3 after."""
        starts, norms = doc.token_starts, doc.token_norms
        count = len(starts)
        cues = lang.actor_cues
        for hit, first, locative in mentions:
            last = first
            if first + 1 < count and starts[first + 1] < hit.end:  # more words than one
                last = doc.token_index(hit.end - 1)
            before = range(first, first) if locative else range(max(0, first - 2), first)
            after = range(last + 1, min(last + 4, count))
            for r in (before, after):
                for k in r:
                    # the sentence only for a cue: most mentions have none near them
                    if norms[k] in cues:
                        lo, hi = doc.sentence_span(hit.start)
                        if lo <= starts[k] < hi:
                            return True
        return False


def _after_locative(norms: list[str], i: int, locatives: WordSet) -> bool:
    """Token ``i`` follows a locative preposition, maybe with an article between ("in het")."""
    word = norms[i - 1]
    if word in locatives:
        return True
    return word in _ARTICLES and i > 1 and norms[i - 2] in locatives


class _Places:
    """The places of ``data/places.yaml`` and CLDR's exemplar cities, by country."""

    def __init__(
        self, skip: frozenset[str], written: list[tuple[str, float, dict[str, list[str]]]]
    ) -> None:
        self._skip = skip
        self._written = written  # (code, weight, forms by language or "all")

    @classmethod
    def load(cls, extra_data_dir: Path | None) -> _Places:
        raw = data.load(PLACES_FILE, extra_data_dir)
        cities: dict[str, Any] = raw.get("cldr_cities") or {}
        skip = frozenset(data.strings(cities.get("skip"), f"{PLACES_FILE}: cldr_cities.skip"))
        written: list[tuple[str, float, dict[str, list[str]]]] = []
        for section, weight in (("capitals", CAPITAL_WEIGHT), ("places", PLACE_WEIGHT)):
            places: dict[str, Any] = raw.get(section) or {}
            unknown = sorted(set(places) - ISO_CODES)
            if unknown:
                raise ConfigError(PLACES_FILE, f"unknown ISO 3166 codes: {', '.join(unknown)}")
            for code, per_lang in sorted(places.items()):
                where = f"{PLACES_FILE}: {section}.{code}"
                if not isinstance(per_lang, dict):
                    raise ConfigError(where, "expected a mapping by language")
                forms = {lang: data.strings(v, f"{where}.{lang}") for lang, v in per_lang.items()}
                written.append((code, weight, forms))
        return cls(skip, written)

    def forms(
        self, lang: str, suffixes: list[str], endings: list[str], not_names: frozenset[str]
    ) -> Iterator[tuple[str, str, float, str]]:
        """(form, code, weight, origin) of every place in ``lang``: CLDR cities (as capitals)
        as the language's settings derive country names from CLDR (stems, genitive), written
        ones as written; none of the language's ``not_names`` (a CLDR city is often its
        country's name: "Dominika")."""
        zones: Mapping[str, str] = babel.core.get_global("zone_territories")
        for zone in sorted(zones):
            code = zones[zone]
            if zone in self._skip or code not in ISO_CODES or "/" not in zone:
                continue
            try:
                exemplar = babel.dates.get_timezone_location(zone, locale=lang, return_city=True)
            except LookupError:  # a zone CLDR knows and the time zone database does not
                continue
            city = _city(exemplar)
            if city and city not in not_names:
                for form in _name_forms(city, suffixes, endings):
                    yield form, code, CAPITAL_WEIGHT, f"CLDR {lang} {zone}"
        for code, weight, per_lang in self._written:
            for key in ("all", lang):
                for form in per_lang.get(key, []):
                    yield form, code, weight, f"{PLACES_FILE}: {code}.{key}"


def _homes(territories: Any) -> dict[str, str]:
    """``territories`` (state: [territory, ...]) as territory -> state, every code checked."""
    if not isinstance(territories, dict):
        raise ConfigError(DATA_FILE, "territories: expected a mapping of states to territories")
    homes: dict[str, str] = {}
    for state, listed in territories.items():
        where = f"{DATA_FILE}: territories.{state}"
        owned = data.strings(listed, where)
        for code in (state, *owned):
            if code not in ISO_CODES:
                raise ConfigError(where, f"unknown ISO 3166 code: {code}")
        for code in owned:
            if code in homes:
                raise ConfigError(where, f"{code} already belongs to {homes[code]}")
            homes[code] = state
    return homes


def _city(exemplar: str) -> str | None:
    """An exemplar city as text names it: CLDR's qualifiers cut (*Tripoli (Libye)*,
    *Argentina/Salta*, *Knox, Indiana*), none for an abbreviated one (*о-в Сахалин*)."""
    city = exemplar.rsplit("/", 1)[-1].replace("\u00ad", "")  # soft hyphens (Reyk-ja-vík)
    for mark in ("(", "[", ","):
        city = city.split(mark, 1)[0]
    city = city.strip()
    return city if city and city[0].isupper() else None


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
