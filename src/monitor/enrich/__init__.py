"""Enrichment: who, where, how many and how sure, as pure functions of the article text.

One module per enricher (``language``, ``countries``, ``organisations``, ``people``,
``figures``), their data in ``monitor/data/*.yaml`` (documented in ``docs/enrichment-data.md``)
and merged with an optional user directory. ``Enricher`` is built once at startup and composes
them; ``Enrichment`` is its answer and the engine's facts about an article.

    enricher = Enricher.load(settings.languages, extra_data_dir=None)
    info = enricher.detect_language(article)                 # alert.LanguageInfo
    doc = monitor.text.analyse(article.body, info.code)
    enrichment = enricher.analyse(doc)                       # .entities, .figures, facts
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

from monitor.alert import Entities, Figure, LanguageInfo
from monitor.article import Article
from monitor.enrich.countries import CountryFinder
from monitor.enrich.figures import FigureFinder
from monitor.enrich.language import LanguageDetector
from monitor.enrich.organisations import OrganisationFinder
from monitor.enrich.people import PeopleFinder, name_key
from monitor.text import Document

__all__ = ["Enricher", "Enrichment", "name_key"]


class Enrichment(msgspec.Struct, frozen=True, kw_only=True):
    """What the enrichers found in one article; also the rule engine's ``Facts``."""

    entities: Entities = msgspec.field(default_factory=Entities)
    figures: tuple[Figure, ...] = ()

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
    def people_keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.entities.people)

    @property
    def organisation_keys(self) -> frozenset[str]:
        return frozenset(o.key for o in self.entities.organisations)

    def figure(self, kind: str) -> int | None:
        """The highest value of that kind, or None when the article gives none."""
        values = [f.value for f in self.figures if f.kind == kind]
        return max(values) if values else None


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

    def analyse(self, doc: Document) -> Enrichment:
        hits = self.countries.hits(doc)
        entities = Entities(
            countries=self.countries.countries(doc, hits),
            organisations=self.organisations.organisations(doc),
            people=self.people.people(doc, hits),
        )
        return Enrichment(entities=entities, figures=self.figures.figures(doc))
