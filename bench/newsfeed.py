"""Synthetic but realistic articles for the end-to-end benchmark, built from ``eval/corpus``.

- Sizes: 1-8 KB of UTF-8 text, uniformly drawn.
- Languages: nl, en, de, fr, es, ru, in turn.
- About ``match_share`` of the articles carry a *positive* corpus text (one the real rules are
  meant to find) as one paragraph among neutral filler; a quarter of the others carry a *hard
  negative* (a near miss that exercises the rule logic), the rest are filler only.
- Filler: corpus sentences of the same language in which the real rules find no term at all,
  shuffled, with now and then a word of the synthetic rules' vocabulary (names, jargon), so the
  presearch sees hits of synthetic rules too.
- Articles declare their language, as wire feeds do (``declared_share``, 1.0 by default; those
  that do not are detected first by the worker, which costs about a third of its time).
- Every article has its own id and its own source, so the story stage never drops one as a
  re-publication: each rule match becomes one published alert.

How many articles really match is measured by the engine on the generated articles, not assumed.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.article import Article
from monitor.engine import RuleSet
from monitor.text import analyse

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "eval" / "corpus"
LANGUAGES = ("nl", "en", "de", "fr", "es", "ru")
MIN_BYTES, MAX_BYTES = 1024, 8192
HARD_NEGATIVE_SHARE = 0.25
TOPIC_WORD_SHARE = 0.15  # of filler sentences that get one word of the synthetic vocabulary

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Text:
    title: str
    text: str


@dataclass(frozen=True)
class Language:
    """What one language contributes: texts to match, near misses, neutral sentences."""

    code: str
    positives: tuple[Text, ...]
    negatives: tuple[Text, ...]
    neutral: tuple[str, ...]


def load_corpus(rules: RuleSet, languages: Sequence[str] = LANGUAGES) -> list[Language]:
    """Every language's corpus, with the sentences in which ``rules`` find no term as filler."""
    result = []
    for code in languages:
        rows = [json.loads(line) for line in (CORPUS / f"{code}.jsonl").read_text().splitlines()]
        texts = {
            kind: tuple(
                Text(r["title"], r["text"]) for r in rows if (r["kind"] == "positive") == kind
            )
            for kind in (True, False)
        }
        sentences = {
            s.strip() for r in rows for s in _SENTENCE_END.split(r["text"]) if len(s.strip()) > 20
        }
        neutral = tuple(sorted(s for s in sentences if not rules.hits(analyse(s, code))))
        if not neutral or not texts[True]:
            raise ValueError(f"eval/corpus/{code}.jsonl has no neutral sentences or positives")
        result.append(Language(code, texts[True], texts[False], neutral))
    return result


class Feed:
    """Deterministic article generator: the same seed gives the same articles."""

    def __init__(
        self,
        corpus: Sequence[Language],
        topic: Sequence[str],
        *,
        seed: int,
        match_share: float = 0.05,
        declared_share: float = 1.0,
    ) -> None:
        self.corpus = list(corpus)
        self.topic = list(topic)
        self.match_share = match_share
        self.declared_share = declared_share
        self._rng = random.Random(seed)

    def articles(self, prefix: str, count: int) -> list[Article]:
        return [self.article(f"{prefix}-{i:06d}", i) for i in range(count)]

    def article(self, article_id: str, index: int) -> Article:
        rng = self._rng
        language = self.corpus[index % len(self.corpus)]
        target = rng.randint(MIN_BYTES, MAX_BYTES)
        core: Text | None = None
        if rng.random() < self.match_share:
            core = rng.choice(language.positives)
        elif language.negatives and rng.random() < HARD_NEGATIVE_SHARE:
            core = rng.choice(language.negatives)
        title = core.title if core is not None else rng.choice(language.neutral).rstrip(".")
        paragraphs = self._filler(language, target - len(title.encode()), core)
        return Article(
            id=article_id,
            url=f"https://bench.example/{article_id}",
            title=title,
            text="\n\n".join(paragraphs),
            source=f"bench-source-{article_id}",
            published_at=datetime.now(UTC),
            language=language.code if rng.random() < self.declared_share else None,
        )

    def _filler(self, language: Language, budget: int, core: Text | None) -> list[str]:
        rng = self._rng
        used = len(core.text.encode()) if core is not None else 0
        paragraphs: list[str] = []
        sentences: list[str] = []
        while used < budget:
            sentence = rng.choice(language.neutral)
            if self.topic and rng.random() < TOPIC_WORD_SHARE:
                words = sentence.split()
                words.insert(rng.randrange(len(words) + 1), rng.choice(self.topic))
                sentence = " ".join(words)
            sentences.append(sentence)
            used += len(sentence.encode()) + 1
            if len(sentences) >= rng.randint(3, 6):
                paragraphs.append(" ".join(sentences))
                sentences = []
        if sentences:
            paragraphs.append(" ".join(sentences))
        if core is not None:
            paragraphs.insert(rng.randrange(len(paragraphs) + 1), core.text)
        return paragraphs
