"""The matching engine: pure, synchronous, no I/O, no clock.

``RuleSet`` compiles every term of every rule into ONE Aho-Corasick automaton over folded text.
``match`` scans an article once, keeps hits that sit on word boundaries (a prefix term's hit may
run on into the word), and evaluates only the rules that got a hit: the cost per article grows
with its length and its hits, not with the number of rules (a presearcher, as in Lucene Monitor).

Sentences and tokens are computed only for rules that need them (proximity, sentence-scoped
exclusions, evidence of a match); enrichment facts only when a rule's term logic already holds
and it has conditions, and then at most once per article.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import ahocorasick

from monitor.alert import Evidence, Span
from monitor.rule import COMMON, Clause, FactCondition, Rule
from monitor.text import Document


class Facts(Protocol):
    """What enrichment knows about an article (computed by ``monitor.enrich``)."""

    @property
    def countries(self) -> frozenset[str]: ...  # ISO alpha-2 codes mentioned

    @property
    def location(self) -> str | None: ...  # country where the event happens, if known

    @property
    def actors(self) -> frozenset[str]: ...  # countries acting (sending troops, ...)

    def figure(self, kind: str) -> int | None: ...  # highest number of that kind


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that fired on an article: which clause, and every hit that made it fire."""

    rule: Rule
    clause: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    term: int  # index into RuleSet._terms


@dataclass(frozen=True, slots=True)
class _TermRef:
    rule: int
    group: int
    group_name: str
    text: str


@dataclass(frozen=True, slots=True)
class _CompiledClause:
    clause: Clause
    all: tuple[int, ...]
    any: tuple[int, ...]
    none: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    clauses: tuple[_CompiledClause, ...]
    ignore: frozenset[int]


_ANY_LANGUAGE = "*"
_WHITESPACE = str.maketrans({"\n": " ", "\t": " ", "\r": " ", "\f": " ", "\v": " "})


class RuleSet:
    """An immutable, compiled set of rules. Build once; share between threads and articles."""

    def __init__(self, rules: Iterable[Rule], *, source: str = "") -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.source = source
        self._terms: list[_TermRef] = []
        self._compiled: list[_CompiledRule] = []
        # key -> language -> (term ids, term ids that are prefixes)
        table: dict[str, dict[str, tuple[list[int], list[int]]]] = {}
        languages: set[str] = set()
        for rule_index, rule in enumerate(self.rules):
            names = {g.name: i for i, g in enumerate(rule.groups)}
            for group_index, group in enumerate(rule.groups):
                for term in group.terms:
                    term_id = len(self._terms)
                    self._terms.append(_TermRef(rule_index, group_index, group.name, term.text))
                    if term.lang != COMMON:
                        languages.add(term.lang)
                    for key in _keys(term.key):
                        ids, prefixes = table.setdefault(key, {}).setdefault(term.lang, ([], []))
                        ids.append(term_id)
                        if term.kind == "prefix":
                            prefixes.append(term_id)
            self._compiled.append(_compile_rule(rule, names))
        self.languages = frozenset(languages)
        self._automaton: Any = ahocorasick.Automaton()
        for key, per_lang in table.items():
            self._automaton.add_word(key, (len(key), self._entry(per_lang)))
        if table:
            self._automaton.make_automaton()
        self.size = len(table)

    def _entry(
        self, per_lang: dict[str, tuple[list[int], list[int]]]
    ) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        """Per document language: (ids if the hit ends a word, ids if it goes on: prefixes)."""
        common = per_lang.get(COMMON, ([], []))
        entry: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        every: tuple[list[int], list[int]] = ([], [])
        for ids, prefixes in per_lang.values():
            every[0].extend(ids)
            every[1].extend(prefixes)
        targets = self.languages if common[0] else per_lang.keys() - {COMMON}
        for lang in targets:
            ids, prefixes = per_lang.get(lang, ([], []))
            entry[lang] = (tuple(ids + common[0]), tuple(prefixes + common[1]))
        entry[_ANY_LANGUAGE] = (tuple(every[0]), tuple(every[1]))
        return entry

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Any:
        return iter(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def hits(self, doc: Document) -> dict[int, list[_Hit]]:
        """Boundary-checked automaton hits, grouped by rule index (the presearch)."""
        if not self.size:
            return {}
        folded = doc.folded
        scan = folded.translate(_WHITESPACE) if not folded.isprintable() else folded
        lang = doc.language if doc.language in self.languages else _ANY_LANGUAGE
        terms = self._terms
        n = len(folded)
        by_rule: dict[int, list[_Hit]] = {}
        for last, (length, entry) in self._automaton.iter(scan):
            ids = entry.get(lang)
            if ids is None:
                continue
            start = last - length + 1
            if start > 0 and folded[start - 1].isalnum():
                continue
            end = last + 1
            if end < n and folded[end].isalnum():
                matched = ids[1]
                if not matched:
                    continue
                while end < n and folded[end].isalnum():
                    end += 1
            else:
                matched = ids[0]
            for term_id in matched:
                rule_index = terms[term_id].rule
                found = by_rule.get(rule_index)
                if found is None:
                    by_rule[rule_index] = [_Hit(start, end, term_id)]
                else:
                    found.append(_Hit(start, end, term_id))
        return by_rule

    def evaluate(
        self, rule_index: int, hits: list[_Hit], doc: Document, facts: _LazyFacts
    ) -> Match | None:
        compiled = self._compiled[rule_index]
        terms = self._terms
        by_group: dict[int, list[_Hit]] = {}
        for hit in hits:
            by_group.setdefault(terms[hit.term].group, []).append(hit)
        if compiled.ignore and not compiled.ignore.isdisjoint(by_group):
            by_group = _drop_ignored_sentences(by_group, compiled.ignore, doc)
        for clause in compiled.clauses:
            chosen = _clause_hits(clause, by_group, doc, terms)
            if chosen is None:
                continue
            if clause.clause.facts is not None and not _facts_hold(clause.clause.facts, facts):
                continue
            return Match(compiled.rule, clause.clause.describe(), self._evidence(chosen, doc))
        return None

    def _evidence(self, hits: Iterable[_Hit], doc: Document) -> tuple[Evidence, ...]:
        out = []
        seen: set[tuple[str, int, int]] = set()
        for hit in sorted(set(hits), key=lambda h: (h.start, h.end, h.term)):
            ref = self._terms[hit.term]
            if (ref.group_name, hit.start, hit.end) in seen:
                continue  # "doden" found as `doden` and as `~dode`: one piece of evidence
            seen.add((ref.group_name, hit.start, hit.end))
            s_start, s_end = doc.sentence_span(hit.start)
            out.append(
                Evidence(
                    group=ref.group_name,
                    term=ref.text,
                    surface=doc.text[hit.start : hit.end],
                    span=Span(hit.start, hit.end),
                    sentence=doc.text[s_start:s_end],
                    sentence_span=Span(s_start, s_end),
                )
            )
        return tuple(out)


def _keys(key: str) -> tuple[str, ...]:
    # a lemma term carries its forms, "\x1f"-separated
    return tuple(k for k in key.split("\x1f") if k)


def _compile_rule(rule: Rule, names: dict[str, int]) -> _CompiledRule:
    def ids(groups: Sequence[str]) -> tuple[int, ...]:
        return tuple(names[g] for g in groups)

    clauses = tuple(_CompiledClause(c, ids(c.all), ids(c.any), ids(c.none)) for c in rule.clauses)
    return _CompiledRule(rule, clauses, frozenset(ids(rule.ignore_sentences_with)))


class _LazyFacts:
    """Calls the enrichment at most once per article, and only if a rule asks."""

    __slots__ = ("_called", "_facts", "_make")

    def __init__(self, make: Callable[[], Facts] | None) -> None:
        self._make = make
        self._facts: Facts | None = None
        self._called = False

    def get(self) -> Facts | None:
        if not self._called:
            self._called = True
            self._facts = self._make() if self._make is not None else None
        return self._facts


def _facts_hold(condition: FactCondition, lazy: _LazyFacts) -> bool:
    facts = lazy.get()
    if facts is None:
        return False
    if condition.min_countries and len(facts.countries) < condition.min_countries:
        return False
    if condition.foreign_actor:
        location = facts.location
        if location is None or not (facts.actors - {location}):
            return False
    for kind, minimum in condition.figures:
        value = facts.figure(kind)
        if value is None or value < minimum:
            return False
    return True


def _drop_ignored_sentences(
    by_group: dict[int, list[_Hit]], ignore: frozenset[int], doc: Document
) -> dict[int, list[_Hit]]:
    """Hits in a sentence that also has an ignored group's hit do not count (false friends)."""
    bad = {doc.sentence_index(h.start) for g in ignore for h in by_group.get(g, ())}
    kept: dict[int, list[_Hit]] = {}
    for group, hits in by_group.items():
        if group in ignore:
            continue
        remaining = [h for h in hits if doc.sentence_index(h.start) not in bad]
        if remaining:
            kept[group] = remaining
    return kept


def _clause_hits(
    clause: _CompiledClause, by_group: dict[int, list[_Hit]], doc: Document, terms: list[_TermRef]
) -> list[_Hit] | None:
    """The hits that make ``clause`` hold, or None."""
    for group in clause.all:
        if group not in by_group:
            return None
    present_any = [g for g in clause.any if g in by_group]
    if clause.any and not present_any:
        return None
    for group in clause.none:
        if group in by_group:
            return None
    groups = (*clause.all, *present_any)
    near = clause.clause.near
    if near is None:
        chosen = [h for g in groups for h in by_group[g]]
    elif near == "sentence":
        chosen = _near(clause, by_group, groups, lambda h: doc.sentence_index(h.start), 0)
    else:
        chosen = _near(clause, by_group, groups, lambda h: doc.token_index(h.start), near)
    if not chosen:
        return None
    if clause.clause.min_hits > 1 and len({terms[h.term].text for h in chosen}) < (
        clause.clause.min_hits
    ):
        return None
    return chosen


def _near(
    clause: _CompiledClause,
    by_group: dict[int, list[_Hit]],
    groups: Sequence[int],
    position: Callable[[_Hit], int],
    width: int,
) -> list[_Hit]:
    """Hits inside windows (a sentence, or ``width`` tokens) where the clause's groups co-occur."""
    placed = sorted(
        ((position(h), g, h) for g in groups for h in by_group[g]), key=lambda p: (p[0], p[2].start)
    )
    required = set(clause.all)
    optional = set(clause.any)
    chosen: list[_Hit] = []
    for i, (anchor, _, _) in enumerate(placed):
        window = []
        for pos, group, hit in placed[i:]:
            if pos - anchor > width:
                break
            window.append((group, hit))
        seen = {g for g, _ in window}
        if required <= seen and (not optional or not optional.isdisjoint(seen)):
            chosen.extend(h for _, h in window)
    return chosen


def match(doc: Document, ruleset: RuleSet, facts: Callable[[], Facts] | None = None) -> list[Match]:
    """Every rule of ``ruleset`` that fires on ``doc``, in rule set order, with its evidence.

    ``facts`` is called at most once, and only when a rule with fact conditions has already
    passed its term logic. Without it, fact conditions are false.
    """
    by_rule = ruleset.hits(doc)
    if not by_rule:
        return []
    lazy = _LazyFacts(facts)
    out = []
    for rule_index in sorted(by_rule):
        found = ruleset.evaluate(rule_index, by_rule[rule_index], doc, lazy)
        if found is not None:
            out.append(found)
    return out
