"""Enrichment: who, where, how many and how sure, as pure functions of the article text.

One module per enricher (``language``, ``countries``, ``organisations``, ``people``,
``figures``), their data in ``monitor/data/*.yaml`` (documented in ``docs/enrichment-data.md``)
and merged with an optional user directory. ``Enricher`` is built once at startup and composes
them; ``Enrichment`` is its answer and the engine's facts about an article.

    enricher = Enricher.load(settings.languages, extra_data_dir=None)
    info = enricher.detect_language(article)                 # alert.LanguageInfo
    doc = monitor.text.analyse(article.body, info.code)
    enrichment = enricher.analyse(doc)                       # .entities, .figures, facts

The surface forms of the countries, organisations and people enrichers (names, aliases, role
phrases, status markers) sit in one automaton per language, so ``analyse`` reads the text once
for all of them (``Enricher.scan``); each enricher can still be called on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from monitor.alert import Entities, Figure, LanguageInfo, PersonStatus
from monitor.article import Article
from monitor.enrich.countries import CountryFinder, CountryForm
from monitor.enrich.figures import FigureFinder
from monitor.enrich.language import LanguageDetector
from monitor.enrich.organisations import OrganisationFinder
from monitor.enrich.people import PeopleFinder, name_key
from monitor.enrich.surface import Hit, SurfaceMatcher, SurfaceScanner
from monitor.text import Document

__all__ = ["Enricher", "Enrichment", "Scanned", "name_key"]


class Enrichment(msgspec.Struct, frozen=True, kw_only=True):
    """What the enrichers found in one article; also the rule engine's ``Facts``."""

    entities: Entities = msgspec.field(default_factory=Entities)
    figures: tuple[Figure, ...] = ()
    # (code, start offset) of the mentions by a country's name, adjective or demonym, not by one
    # of its places: a destination is a country named as such ("naar Hongarije"), while
    # "naar Lissabon" is where home troops may go (the engine's ``destination_after``)
    country_names: tuple[tuple[str, int], ...] = ()
    # territory -> the state it belongs to (countries.yaml): the engine's foreign test (``home``)
    homes: Mapping[str, str] = msgspec.field(default_factory=dict)

    def home(self, code: str) -> str:
        """The state a country code belongs to: itself, or a territory's state (YT -> FR)."""
        return self.homes.get(code, code)

    @property
    def countries(self) -> frozenset[str]:
        """ISO codes of every country mentioned."""
        return frozenset(c.code for c in self.entities.countries)

    @property
    def location(self) -> str | None:
        """The country where it happens, if any country is mentioned."""
        for country in self.entities.countries:
            if "location" in country.roles:
                return country.code
        return None

    @property
    def actors(self) -> frozenset[str]:
        return frozenset(c.code for c in self.entities.countries if "actor" in c.roles)

    @property
    def country_mentions(self) -> tuple[tuple[str, int], ...]:
        """(code, start offset) of every country mention, in text order: lets the engine ask
        which countries a sentence names (``foreign_actor: sentence``); a country with no role
        (only a place names it, ``countries``) is not named as an actor."""
        placed = [
            (m.span.start, c.code) for c in self.entities.countries if c.roles for m in c.mentions
        ]
        return tuple((code, start) for start, code in sorted(placed))

    @property
    def people_keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.entities.people)

    @property
    def organisation_keys(self) -> frozenset[str]:
        return frozenset(o.key for o in self.entities.organisations)

    def figure(self, kind: str) -> int | None:
        """The highest value of that kind, or None when the article gives none."""
        values = [f.value for f in self.figures if f.kind == kind]
        return max(values) if values else None


class Scanned(NamedTuple):
    """The hits of every enricher's surface forms in one document (``Enricher.scan``)."""

    countries: list[Hit[CountryForm]]
    organisations: list[Hit[tuple[str, bool]]]
    roles: list[Hit[str]]
    statuses: list[Hit[PersonStatus]]


class Enricher:
    """All enrichers, their data loaded once; safe to share (it holds no per-article state)."""

    def __init__(
        self,
        detector: LanguageDetector,
        countries: CountryFinder,
        organisations: OrganisationFinder,
        people: PeopleFinder,
        figures: FigureFinder,
    ) -> None:
        self.detector = detector
        self.countries = countries
        self.organisations = organisations
        self.people = people
        self.figures = figures
        # one pass over the text per article for the forms of every enricher, per language
        self._scanners: dict[str, SurfaceScanner] = {}
        for language in detector.languages:
            matchers = people.matchers(language)
            country_forms = countries.matcher(language)
            if matchers is not None and country_forms is not None:
                ordered: list[SurfaceMatcher[Any]] = [
                    country_forms,
                    organisations.matcher,
                    *matchers,
                ]
                self._scanners[language] = SurfaceScanner(ordered)

    @classmethod
    def load(cls, languages: Iterable[str], extra_data_dir: Path | None = None) -> Enricher:
        """Build every enricher for ``languages``; raises ``ConfigError`` on bad data."""
        langs = list(dict.fromkeys(languages))
        return cls(
            LanguageDetector(langs),
            CountryFinder.load(langs, extra_data_dir),
            OrganisationFinder.load(extra_data_dir),
            PeopleFinder.load(langs, extra_data_dir),
            FigureFinder.load(langs, extra_data_dir),
        )

    def detect_language(self, article: Article) -> LanguageInfo:
        return self.detector.detect(article.title, article.text, article.language)

    def scan(self, doc: Document) -> Scanned | None:
        """The surface forms of every enricher in ``doc``, found in one pass; None when no
        enricher knows the document's language (nor English): each then scans on its own."""
        scanner = self._scanners.get(doc.language) or self._scanners.get("en")
        if scanner is None:
            return None
        countries, organisations, roles, statuses = scanner.find(doc.text, doc.folded)
        return Scanned(countries, organisations, roles, statuses)

    def analyse(self, doc: Document) -> Enrichment:
        scanned = self.scan(doc)
        if scanned is None:
            hits = self.countries.hits(doc)
            organisations = self.organisations.organisations(doc)
            people = self.people.people(doc, hits)
        else:
            hits = self.countries.hits(doc, scanned.countries)
            organisations = self.organisations.organisations(doc, scanned.organisations)
            people = self.people.people(doc, hits, (scanned.roles, scanned.statuses))
        entities = Entities(
            countries=self.countries.countries(doc, hits),
            organisations=organisations,
            people=people,
        )
        return Enrichment(
            entities=entities,
            figures=self.figures.figures(doc),
            country_names=tuple((h.code, h.start) for h in hits if not h.place),
            homes=self.countries.homes,
        )
