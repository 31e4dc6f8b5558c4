"""Measure rule quality on the labelled corpus in ``eval/corpus/``.

Each line of ``eval/corpus/<lang>.jsonl`` is one article with the rule ids a careful reader would
alert on (see ``eval/README.md`` for the guidelines). This script runs every article through the
real pipeline and prints precision, recall and F1 per rule, per (rule, language) and overall.

    .venv/bin/python eval/evaluate.py --stats          # counts only, no pipeline needed
    .venv/bin/python eval/evaluate.py                  # scores
    .venv/bin/python eval/evaluate.py --errors         # ... and every false positive / negative
    .venv/bin/python eval/evaluate.py --corpus eval/corpus --corpus eval/heldout2   # several sets

With several ``--corpus`` directories each set is scored on its own (ids may repeat across sets),
then a summary prints precision and recall per rule and set side by side.

It reports, it does not assert: the exit code is 0 unless the arguments are wrong (2), the
pipeline cannot be loaded (2), or ``--min-precision`` / ``--min-recall`` are given and a rule
falls short (1).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, cast

RULES: tuple[str, ...] = (
    "foreign_troop_deployment",
    "government_dismissal",
    "deadly_unrest",
    "coup_attempt",
    "state_of_emergency",
)
CORE_LANGUAGES: tuple[str, ...] = ("nl", "en", "de", "fr", "es", "ru")
KINDS: tuple[str, ...] = ("positive", "hard_negative", "negative")
REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "eval" / "corpus"
DEFAULT_RULES = REPO / "rules"
# Articles in the corpus carry no date; a fixed one keeps runs reproducible.
PUBLISHED_AT = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


class CorpusError(Exception):
    """A corpus line that does not follow the format in ``eval/README.md``."""


@dataclass(frozen=True)
class Item:
    """One labelled article of the corpus."""

    id: str
    language: str
    title: str
    text: str
    labels: frozenset[str]
    kind: str
    note: str


@dataclass
class Score:
    """Confusion counts for one rule (or one rule in one language)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Score) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float | None:
        fired = self.tp + self.fp
        return self.tp / fired if fired else None

    @property
    def recall(self) -> float | None:
        expected = self.tp + self.fn
        return self.tp / expected if expected else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)


@dataclass
class Outcome:
    """What the pipeline fired for one article, beside what the label says."""

    item: Item
    fired: frozenset[str]
    errors: list[str] = field(default_factory=list)


class _Alert(Protocol):
    @property
    def rule_id(self) -> str: ...


class _Pipeline(Protocol):
    def process(self, article: object, now: datetime) -> Sequence[_Alert]: ...


def load_corpus(directory: Path, languages: Iterable[str] | None = None) -> list[Item]:
    """Every article of ``directory/*.jsonl``, validated; raises ``CorpusError`` with path:line."""
    wanted = set(languages) if languages else None
    items: list[Item] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.jsonl")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{where}: not JSON: {exc}") from exc
            item = _item(raw, where)
            if item.id in seen:
                raise CorpusError(f"{where}: duplicate id {item.id}")
            seen.add(item.id)
            if wanted is None or item.language in wanted:
                items.append(item)
    return items


def _item(raw: object, where: str) -> Item:
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: a line must be a JSON object")
    for key in ("id", "language", "title", "text", "kind", "note"):
        if not isinstance(raw.get(key), str):
            raise CorpusError(f"{where}: {key!r} must be a string")
    labels = raw.get("labels")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise CorpusError(f"{where}: 'labels' must be a list of rule ids")
    unknown = set(labels) - set(RULES)
    if unknown:
        raise CorpusError(f"{where}: unknown labels {sorted(unknown)}")
    if raw["kind"] not in KINDS:
        raise CorpusError(f"{where}: kind must be one of {KINDS}")
    if (raw["kind"] == "positive") != bool(labels):
        raise CorpusError(f"{where}: kind 'positive' iff labels are non-empty")
    return Item(
        id=raw["id"],
        language=raw["language"],
        title=raw["title"],
        text=raw["text"],
        labels=frozenset(cast(list[str], labels)),
        kind=raw["kind"],
        note=raw["note"],
    )


def languages_of(items: Sequence[Item]) -> list[str]:
    """Core languages first in their fixed order, then the others alphabetically."""
    present = {item.language for item in items}
    core = [lang for lang in CORE_LANGUAGES if lang in present]
    return core + sorted(present - set(CORE_LANGUAGES))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([fmt(header), rule, *(fmt(row) for row in rows)]) + "\n"


def stats(items: Sequence[Item]) -> str:
    """Positives per rule x language, then kinds per language."""
    langs = languages_of(items)
    rows: list[list[str]] = []
    for rule in RULES:
        counts = [
            sum(1 for i in items if i.language == lang and rule in i.labels) for lang in langs
        ]
        rows.append([rule, *map(str, counts), str(sum(counts))])
    out = "Positives per rule and language\n\n"
    out += _table(["rule", *langs, "total"], rows)
    kind_rows: list[list[str]] = []
    for kind in (*KINDS, "multi_label"):
        counts = [
            sum(
                1
                for i in items
                if i.language == lang
                and (len(i.labels) > 1 if kind == "multi_label" else i.kind == kind)
            )
            for lang in langs
        ]
        kind_rows.append([kind, *map(str, counts), str(sum(counts))])
    totals = [sum(1 for i in items if i.language == lang) for lang in langs]
    kind_rows.append(["articles", *map(str, totals), str(len(items))])
    out += "\nArticles per kind and language\n\n"
    out += _table(["kind", *langs, "total"], kind_rows)
    hard = sum(1 for i in items if i.kind == "hard_negative")
    share = hard / len(items) if items else 0.0
    out += f"\nhard negatives: {hard} of {len(items)} ({share:.0%})\n"
    return out


def load_pipeline(rules: Path) -> _Pipeline:
    """``monitor.pipeline.Pipeline.from_paths(rules=...)``, imported only when scores are wanted."""
    module = importlib.import_module("monitor.pipeline")
    return cast(_Pipeline, module.Pipeline.from_paths(rules=rules))


def run(pipeline: _Pipeline, items: Sequence[Item], *, declare_language: bool) -> list[Outcome]:
    """Each article through the pipeline; an exception on one article is recorded, not raised."""
    from monitor.article import Article

    outcomes: list[Outcome] = []
    for item in items:
        article = Article(
            id=item.id,
            url=f"eval:{item.id}",
            title=item.title,
            text=item.text,
            source="eval",
            published_at=PUBLISHED_AT,
            language=item.language if declare_language else None,
        )
        try:
            alerts = pipeline.process(article, PUBLISHED_AT)
        except Exception as exc:  # noqa: BLE001 - one failing article is a finding, not a stop
            outcomes.append(Outcome(item, frozenset(), [f"{type(exc).__name__}: {exc}"]))
            continue
        outcomes.append(Outcome(item, frozenset(a.rule_id for a in alerts)))
    return outcomes


def score(outcomes: Sequence[Outcome], rule: str, language: str | None = None) -> Score:
    s = Score()
    for o in outcomes:
        if language is not None and o.item.language != language:
            continue
        expected, fired = rule in o.item.labels, rule in o.fired
        s.tp += expected and fired
        s.fp += fired and not expected
        s.fn += expected and not fired
    return s


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _score_row(name: str, s: Score) -> list[str]:
    return [name, _pct(s.precision), _pct(s.recall), _pct(s.f1), str(s.tp), str(s.fp), str(s.fn)]


HEADER = ["", "P", "R", "F1", "TP", "FP", "FN"]


def report(outcomes: Sequence[Outcome]) -> str:
    """Per rule, overall (micro), then per (rule, language)."""
    items = [o.item for o in outcomes]
    langs = languages_of(items)
    total = Score()
    rows: list[list[str]] = []
    for rule in RULES:
        s = score(outcomes, rule)
        total.add(s)
        rows.append(_score_row(rule, s))
    rows.append(_score_row("overall (micro)", total))
    f1s = [score(outcomes, rule).f1 for rule in RULES]
    macro = sum(f or 0.0 for f in f1s) / len(RULES)
    out = f"Scores on {len(outcomes)} articles\n\n" + _table(["rule", *HEADER[1:]], rows)
    out += f"macro F1 over rules: {macro:.2f}\n"
    lang_rows: list[list[str]] = []
    for rule in RULES:
        for lang in langs:
            lang_rows.append(_score_row(f"{rule} {lang}", score(outcomes, rule, lang)))
    out += "\nPer rule and language\n\n" + _table(["rule lang", *HEADER[1:]], lang_rows)
    lang_total: list[list[str]] = []
    for lang in langs:
        s = Score()
        for rule in RULES:
            s.add(score(outcomes, rule, lang))
        lang_total.append(_score_row(lang, s))
    out += "\nPer language, all rules (micro)\n\n" + _table(["lang", *HEADER[1:]], lang_total)
    return out


def summary(results: Sequence[tuple[str, Sequence[Outcome]]]) -> str:
    """Precision and recall per rule (and micro over rules), one column pair per scored set."""
    header = ["rule"]
    for name, _ in results:
        header += [f"{name} P", "R"]
    rows: list[list[str]] = []
    totals = [Score() for _ in results]
    for rule in RULES:
        row = [rule]
        for total, (_, outcomes) in zip(totals, results, strict=True):
            s = score(outcomes, rule)
            total.add(s)
            row += [_pct(s.precision), _pct(s.recall)]
        rows.append(row)
    micro = ["overall (micro)"]
    for total in totals:
        micro += [_pct(total.precision), _pct(total.recall)]
    rows.append(micro)
    return "\nSummary, precision and recall per set\n\n" + _table(header, rows)


def errors(outcomes: Sequence[Outcome]) -> str:
    """Every false positive and false negative, with id, kind and title."""
    lines: list[str] = []
    for o in outcomes:
        for err in o.errors:
            lines.append(f"ERROR {o.item.id}: {err}")
        for rule in RULES:
            expected, fired = rule in o.item.labels, rule in o.fired
            if expected == fired:
                continue
            tag = "FN" if expected else "FP"
            lines.append(f"{tag} {rule:<25} {o.item.id:<8} [{o.item.kind}] {o.item.title[:80]}")
    lines.sort(key=lambda line: (line[:2], line[3:30]))
    return "\nErrors\n\n" + ("\n".join(lines) if lines else "(none)") + "\n"


def below(
    outcomes: Sequence[Outcome], min_precision: float | None, min_recall: float | None
) -> str:
    """The rules under the given thresholds, one line each (empty when all pass)."""
    lines: list[str] = []
    for rule in RULES:
        s = score(outcomes, rule)
        # Undefined precision (the rule never fired) is not a failure; its recall is 0 instead.
        if min_precision is not None and s.precision is not None and s.precision < min_precision:
            lines.append(f"{rule}: precision {_pct(s.precision)} < {min_precision:.2f}")
        if min_recall is not None and s.recall is not None and s.recall < min_recall:
            lines.append(f"{rule}: recall {_pct(s.recall)} < {min_recall:.2f}")
    return "\n".join(lines)


def _fraction(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help=f"corpus directory (repeatable; default {DEFAULT_CORPUS.relative_to(REPO)})",
    )
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="rules directory")
    parser.add_argument("--lang", action="append", help="only this language (repeatable)")
    parser.add_argument("--stats", action="store_true", help="counts only, no pipeline")
    parser.add_argument("--errors", action="store_true", help="list false positives/negatives")
    parser.add_argument(
        "--no-declared-language",
        action="store_true",
        help="leave Article.language empty so the pipeline has to detect it",
    )
    parser.add_argument("--min-precision", type=_fraction, help="exit 1 if a rule is below")
    parser.add_argument("--min-recall", type=_fraction, help="exit 1 if a rule is below")
    args = parser.parse_args(argv)

    corpora: list[Path] = args.corpus or [DEFAULT_CORPUS]
    sets: list[tuple[str, list[Item]]] = []
    for directory in corpora:
        try:
            items = load_corpus(directory, args.lang)
        except (CorpusError, OSError) as exc:
            sys.stderr.write(f"evaluate: {exc}\n")
            return 2
        if not items:
            sys.stderr.write(f"evaluate: no articles in {directory}\n")
            return 2
        sets.append((directory.name, items))
    several = len(sets) > 1
    if args.stats:
        for name, items in sets:
            if several:
                sys.stdout.write(f"\n=== {name}\n\n")
            sys.stdout.write(stats(items))
        return 0

    try:
        pipeline = load_pipeline(args.rules)
    except ImportError as exc:
        sys.stderr.write(f"evaluate: cannot load the pipeline ({exc}); --stats works without it\n")
        return 2
    results: list[tuple[str, list[Outcome]]] = []
    failures: list[str] = []
    for name, items in sets:
        outcomes = run(pipeline, items, declare_language=not args.no_declared_language)
        results.append((name, outcomes))
        if several:
            sys.stdout.write(f"\n=== {name}\n\n")
        sys.stdout.write(report(outcomes))
        if args.errors:
            sys.stdout.write(errors(outcomes))
        failed = below(outcomes, args.min_precision, args.min_recall)
        if failed:
            failures.append("\n".join(f"{name}: {line}" for line in failed.splitlines()))
    if several:
        sys.stdout.write(summary(results))
    if failures:
        sys.stdout.write("\nBelow threshold\n\n" + "\n".join(failures) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
