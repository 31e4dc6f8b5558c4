"""The pure heart of the worker: one article in, the alerts it yields out.

``parse -> normalise once -> match (one automaton) -> detect language -> enrich -> alert``

(the language is detected first only when the article declares none of the configured ones)

No Kafka, no clock (``now`` is passed in), no network: the worker, ``monitor match``, the rule
tests, the evaluation script and the benchmarks all call this same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import msgspec

from monitor.alert import Alert, LanguageInfo, alert_id_for
from monitor.article import Article
from monitor.engine import Match, RuleSet, match
from monitor.enrich import Enricher, Enrichment
from monitor.explain import Explanation, explain
from monitor.ruleset import load_ruleset
from monitor.settings import SUPPORTED_LANGUAGES
from monitor.severity import assess
from monitor.story import StoryCandidate, candidate_for, fingerprint, routing_key, story_id_for
from monitor.text import Document, analyse


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """A match ready for the story stage: the alert as it stands, and what the story needs."""

    routing_key: str
    alert: Alert
    candidate: StoryCandidate


class Pipeline:
    """Rules and enrichment data, loaded once; ``findings`` is called per article."""

    def __init__(self, ruleset: RuleSet, enricher: Enricher) -> None:
        self.ruleset = ruleset
        self.enricher = enricher

    @classmethod
    def from_paths(
        cls,
        rules: Path,
        *,
        languages: Sequence[str] = SUPPORTED_LANGUAGES,
        extra_data: Path | None = None,
    ) -> Pipeline:
        """Load and compile; raises ``RuleSetError`` listing every problem in the rules."""
        return cls(load_ruleset(rules), Enricher.load(languages, extra_data))

    def with_rules(self, ruleset: RuleSet) -> Pipeline:
        """The same enrichment with another rule set (a reload keeps the loaded data)."""
        return Pipeline(ruleset, self.enricher)

    def findings(self, article: Article, now: datetime) -> list[Finding]:
        """Every rule that fires on ``article``, enriched; empty for most articles.

        Language detection costs more than matching, and most articles declare their language
        and match nothing: an article that declares a configured language is matched in it,
        and detection runs only when something matched (the alert reports the detected
        language). Should detection name another language, the article is analysed and
        matched again in that one, as if it had declared nothing. (A wrongly declared article
        that matches nothing in its declared language is not looked at again.)
        """
        declared = article.language
        if declared is not None and declared in self.enricher.detector.languages:
            doc, matches, facts = self._match(article, declared)
            if not matches:
                return []
            language = self.enricher.detect_language(article)
            if language.code != declared:
                doc, matches, facts = self._match(article, language.code)
        else:
            language = self.enricher.detect_language(article)
            doc, matches, facts = self._match(article, language.code)
        if not matches:
            return []
        found = facts()
        simhash = fingerprint(doc)
        results = []
        for m in matches:
            key = routing_key(m.rule.id, found.location)
            # The story this article would open; the story stage may file it under an older one.
            story_id = story_id_for(key, article.id)
            alert = self._alert(article, m, found, language, story_id, now)
            candidate = candidate_for(m.rule.id, article, found, simhash)
            results.append(Finding(routing_key=key, alert=alert, candidate=candidate))
        return results

    def _match(
        self, article: Article, language: str
    ) -> tuple[Document, list[Match], Callable[[], Enrichment]]:
        """The article analysed in ``language``, its matches, and its enrichment on demand
        (computed once, only if a rule asks for facts or something matched)."""
        doc, facts = self._analysed(article, language)
        return doc, match(doc, self.ruleset, facts), facts

    def _analysed(
        self, article: Article, language: str
    ) -> tuple[Document, Callable[[], Enrichment]]:
        """The article analysed in ``language``, and its enrichment on demand (once)."""
        doc = analyse(article.body, language)
        enrichment: list[Enrichment] = []

        def facts() -> Enrichment:
            if not enrichment:
                enrichment.append(self.enricher.analyse(doc))
            return enrichment[0]

        return doc, facts

    def explain(self, article: Article, rule_id: str) -> Explanation:
        """Why ``rule_id`` fires on ``article`` or not, in the language ``findings`` would match
        it in (``monitor match --explain``); KeyError for an unknown rule."""
        declared = article.language
        if declared is None or declared not in self.enricher.detector.languages:
            declared = self.enricher.detect_language(article).code
        doc, facts = self._analysed(article, declared)
        return explain(doc, self.ruleset, rule_id, facts)

    def process(self, article: Article, now: datetime) -> list[Alert]:
        """Alerts for one article taken on its own, each opening a story (``monitor match``)."""
        return [f.alert for f in self.findings(article, now)]

    def _alert(
        self,
        article: Article,
        m: Match,
        found: Enrichment,
        language: LanguageInfo,
        story_id: str,
        now: datetime,
    ) -> Alert:
        rule = m.rule
        severity, reasons = assess(
            rule.severity.base, rule.severity.escalate, figure=found.figure, sources=1
        )
        return Alert(
            alert_id=alert_id_for(rule.id, article.id),
            rule_id=rule.id,
            rule_title=rule.title,
            event_code=rule.event_code,
            tags=tuple(rule.tags),
            severity=severity,
            severity_reasons=reasons,
            status="new",
            story_id=story_id,
            article_id=article.id,
            article_url=article.url,
            article_title=article.title,
            source=article.source,
            published_at=article.published_at,
            language=language,
            evidence=m.evidence,
            entities=found.entities,
            figures=found.figures,
            created_at=now,
        )
