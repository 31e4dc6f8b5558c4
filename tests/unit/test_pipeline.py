"""``Pipeline.findings`` detects the language only when it is needed, with today's results.

Each test records the order of the two costly steps (``analyse`` in a language, language
detection) through spies that call the real functions, and checks the rules that fired: rules
whose terms exist in one language only show which language an article was judged in.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.article import Article
from monitor.enrich import Enricher
from monitor.pipeline import Pipeline
from monitor.ruleset import load_ruleset
from monitor.settings import SUPPORTED_LANGUAGES
from monitor.story import fingerprint as real_fingerprint
from monitor.story import simhash
from monitor.text import analyse as real_analyse

NOW = datetime(2024, 1, 11, 12, 0, tzinfo=UTC)
ENGLISH = (
    "Soldiers arrived in the capital on Tuesday, the government said in a statement, "
    "and more troops are expected to follow later this week."
)
ENGLISH_QUIET = (
    "The central bank kept its interest rate unchanged on Tuesday, the governor said in a "
    "statement, and markets barely moved."
)
# one rule per language judged in: "soldiers" is a Dutch term of one and an English one of two
RULES = {
    "judged_nl": "nl: [soldiers]",
    "judged_en": "en: [soldiers]",
    "judged_en_too": "en: [troops]",
}


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher.load(SUPPORTED_LANGUAGES)


@pytest.fixture
def pipeline(tmp_path: Path, enricher: Enricher) -> Pipeline:
    for rule_id, terms in RULES.items():
        lang = terms[:2]
        body = f"""
            id: {rule_id}
            title: {rule_id}
            severity: {{base: low}}
            languages: [{lang}]
            terms:
              t:
                {terms}
            match:
              - any: [t]
        """
        (tmp_path / f"{rule_id}.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
    return Pipeline(load_ruleset(tmp_path, cache_dir=None), enricher)


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline) -> list[tuple[str, ...]]:
    """The costly steps ``findings`` takes, in order (the real functions still run)."""
    log: list[tuple[str, ...]] = []
    real_detect = pipeline.enricher.detect_language

    def analyse(text: str, language: str) -> Any:
        log.append(("analyse", language))
        return real_analyse(text, language)

    def detect(article: Article) -> Any:
        log.append(("detect",))
        return real_detect(article)

    def fingerprint(doc: Any) -> int:
        log.append(("fingerprint",))
        return real_fingerprint(doc)

    monkeypatch.setattr("monitor.pipeline.analyse", analyse)
    monkeypatch.setattr(pipeline.enricher, "detect_language", detect)
    monkeypatch.setattr("monitor.pipeline.fingerprint", fingerprint)
    return log


def _article(text: str, declared: str | None) -> Article:
    return Article(
        id="a1",
        url="https://example.org/a1",
        title="",
        text=text,
        source="test",
        published_at=NOW,
        language=declared,
    )


Steps = list[tuple[str, ...]]


def test_declared_and_matching_detects_after_matching(pipeline: Pipeline, steps: Steps) -> None:
    """A declared article that matches is matched in its language, then detected once (for the
    alert), and fingerprinted once for all the rules it fires."""
    found = pipeline.findings(_article(ENGLISH, "en"), NOW)
    assert steps == [("analyse", "en"), ("detect",), ("fingerprint",)]
    assert sorted(f.alert.rule_id for f in found) == ["judged_en", "judged_en_too"]
    assert {(f.alert.language.code, f.alert.language.agrees) for f in found} == {("en", True)}
    expected = simhash(real_analyse(ENGLISH, "en").token_norms)
    assert {f.candidate.fingerprint for f in found} == {expected}


def test_declared_and_not_matching_never_detects(pipeline: Pipeline, steps: Steps) -> None:
    """Most articles: declared, nothing matches, no language detection at all."""
    assert pipeline.findings(_article(ENGLISH_QUIET, "en"), NOW) == []
    assert steps == [("analyse", "en")]


@pytest.mark.parametrize(
    "declared",
    [pytest.param(None, id="undeclared"), pytest.param("sw", id="declared-not-configured")],
)
def test_undeclared_detects_first(pipeline: Pipeline, steps: Steps, declared: str | None) -> None:
    """Without a configured declared language, detection picks the language to match in."""
    found = pipeline.findings(_article(ENGLISH, declared), NOW)
    assert steps[:2] == [("detect",), ("analyse", "en")]
    assert sorted(f.alert.rule_id for f in found) == ["judged_en", "judged_en_too"]
    assert {f.alert.language.declared for f in found} == {declared}


def test_declared_wrongly_is_matched_again_in_the_detected_language(
    pipeline: Pipeline, steps: Steps
) -> None:
    """English declared as Dutch fires the Dutch rule, then detection says English: the
    article is judged again in English, and only the English rules' alerts come out."""
    found = pipeline.findings(_article(ENGLISH, "nl"), NOW)
    assert steps[:3] == [("analyse", "nl"), ("detect",), ("analyse", "en")]
    assert sorted(f.alert.rule_id for f in found) == ["judged_en", "judged_en_too"]
    languages = {f.alert.language for f in found}
    assert [(lang.code, lang.declared, lang.agrees) for lang in languages] == [("en", "nl", False)]


def test_same_findings_whether_declared_or_not(pipeline: Pipeline) -> None:
    """Declared (rightly or wrongly) or not, a matching article yields the same alerts apart
    from the declaration itself: the order of detection and matching changes no result."""

    def view(declared: str | None) -> list[tuple[str, str, float, Any]]:
        found = pipeline.findings(_article(ENGLISH, declared), NOW)
        return [
            (f.alert.rule_id, f.alert.language.code, f.alert.language.confidence, f.candidate)
            for f in found
        ]

    assert view("en") == view(None) == view("nl")
    assert view("en")
