"""The matching engine: pure, synchronous, no I/O, no clock.

``RuleSet`` compiles every term of every rule into ONE Aho-Corasick automaton over folded text
(in Rust: a DFA, or a contiguous NFA for large key sets). ``match`` scans an article once, gets
every hit as a list in one call, and evaluates only the rules whose hits cover the groups some
clause needs (a bit mask per rule, built from the distinct keys that hit, not from every hit):
the cost per article grows with its length and its hits, not with the number of rules (a
presearcher, as in Lucene Monitor). Where a hit starts and ends in the text is worked out only
for the rules that pass that gate.

Sentences and tokens are computed only for rules that need them (proximity, sentence-scoped
exclusions, the lead, evidence of a match); enrichment facts only when a rule's term logic
already holds and it has conditions, and then at most once per article.

Related-headline lists ("Lees ook:", "Read more:", ``data/related_lists.yaml``) are found once
per article, and only when some rule passed the gate; hits inside them are dropped for every
rule. The text is not changed, so every offset stays an offset into the original.
"""

from __future__ import annotations

import bisect
import functools
import re
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from operator import itemgetter
from typing import Any, Final, NamedTuple, Protocol

import ahocorasick_rs
import yaml

from monitor.alert import Evidence, Figure, Span
from monitor.genres import GenreLabels, default_genre_labels
from monitor.rule import COMMON, Clause, FactCondition, Rule
from monitor.text import Document, fold, story_start


class Facts(Protocol):
    """What enrichment knows about an article (computed by ``monitor.enrich``).

    Facts that can place what they found also have ``figures`` (``Figure`` with spans) and
    ``country_mentions`` ((code, start offset), ...): then ``figure_sentence_with`` and
    ``foreign_actor: sentence`` look at sentences; without them (a rule test's stated facts)
    those conditions read the article as a whole. ``country_names`` (the mentions by name,
    adjective or demonym, not by a city) is where ``destination_after`` looks."""

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


# (start, end, term id): plain tuples, because a frozen dataclass per hit costs a microsecond
_Hit = tuple[int, int, int]


class TermHit(NamedTuple):
    """A hit of one rule's term, named (``RuleSet.term_hits``, for explaining a rule)."""

    start: int
    end: int
    group: str
    term: str


# ((rule index, term id, the term's bits in its rule's mask), ...) of one key in one language
_Ids = tuple[tuple[int, int, int], ...]


class _Keys(NamedTuple):
    """The automaton keys as articles of one language see them, by key index."""

    # (rule index, term id, the term's bits in its rule's mask) of each key, or None
    ids: list[_Ids | None]
    # each key's distinct rule indexes as native unsigned ints (``_PACKED``) in one bytes object
    # (b"" when none): an article's can be joined and counted in C, and they lie in one block
    # of memory where a tuple of ints is a tuple plus an object per int (cache misses with
    # tens of thousands of keys)
    rules: list[bytes]
    # key index -> the rules that key's bits alone let through the gate (few keys have any)
    solo: dict[int, tuple[int, ...]]


# an automaton hit as the automaton gives it: (key index, start, stop) in the scan text's bytes
_Found = tuple[int, int, int]
_PACKED: Final = "I"
_PACKED_SIZE = array(_PACKED).itemsize
_first = itemgetter(0)


class _TermRef(NamedTuple):
    """Where a term id leads (a tuple: 10,000 rules make ~50,000 of them at load)."""

    rule: int
    group: int
    group_name: str
    text: str
    # what makes two terms distinct for ``min_hits``: the folded key, so "exercício*" and
    # "exercicio*", one word once folded, count once
    key: str


@dataclass(frozen=True, slots=True)
class _CompiledClause:
    clause: Clause
    all: tuple[int, ...]
    any: tuple[int, ...]
    # none-of groups by scope: the article, the lead, the sentences of the chosen hits
    none: tuple[int, ...]
    lead: bool
    none_lead: tuple[int, ...]
    none_sentence: tuple[int, ...]
    # groups one of which must hit in a figure's sentence (``facts.figure_sentence_with``)
    figure_groups: tuple[int, ...]
    # groups after whose hits a destination country is named (``facts.destination_after``)
    destination_groups: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    clauses: tuple[_CompiledClause, ...]
    ignore: frozenset[int]
    scare_quotes: frozenset[int]  # groups whose hits in scare quotes do not count
    # (groups, min distinct terms, lead only) per veto: seen on every hit (of the lead, for a
    # lead veto), ignored sentences included
    vetoes: tuple[tuple[frozenset[int], int, bool], ...]
    # per clause (all-of group bits, any-of group bits, min_hits): a necessary condition on the
    # groups a rule's hits fall in, checked before any per-group work (see ``RuleSet.candidates``)
    gates: tuple[tuple[int, int, int], ...]
    group_count: int


_ANY_LANGUAGE = "*"
# The automaton scans " " + folded text + " " with every non-word character made a space, and its
# keys are " word" (a prefix) or " word " (exact): a hit can only start at a word start and an
# exact one only end at a word end, and the trie's root has one child, so after a mismatch the
# scan falls back to the root at once instead of chasing failure links through dense nodes
# (3-5x faster with 10k rules than unpadded keys plus boundary checks). A scan offset is the
# folded offset + 1: a key found at scan offset ``start`` (its leading space) starts at folded
# offset ``start``.
_NON_WORD = re.compile(r"[^\w ]|_")
# str.translate has a fast path for ASCII (6 us per 4 KB against 70 us for the regex)
_ASCII_NON_WORD = {i: " " for i in range(128) if not chr(i).isalnum() and chr(i) != " "}
# the same on the bytes of Latin-1 text (ASCII, or folded West European articles), cheaper
# still: a byte table instead of a dict (~5 us per 4 KB of Latin-1, decoded back from it)
_LATIN1_NON_WORD_BYTES = bytes(32 if _NON_WORD.match(chr(i)) else i for i in range(256))
_WORD_REST = re.compile(r"[^\W_]*")

# language -> ((rule index, term id, the term's bits in its rule's mask), ...)
Entry = dict[str, _Ids]
# from this many automaton keys on, a contiguous NFA scans faster than a DFA (see ``RuleSet``)
_DFA_MAX_KEYS = 8_000


def scan_key(phrase: str) -> str:
    """A folded phrase as the automaton sees it: punctuation as spaces, single-spaced."""
    if phrase.isascii():
        return " ".join(phrase.translate(_ASCII_NON_WORD).split())
    return " ".join(_NON_WORD.sub(" ", phrase).split())


class RuleSet:
    """An immutable, compiled set of rules. Build once; share between threads and articles."""

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        source: str = "",
        related_lists: RelatedLists | None = None,
        genre_labels: GenreLabels | None = None,
    ) -> None:
        """``related_lists``: the headers of related-headline lists to cut; by default the
        packaged ``data/related_lists.yaml`` (pass ``RelatedLists(())`` to cut nothing).
        ``genre_labels``: the labels rules' ``skip_genres`` look for; by default the packaged
        ``data/genre_labels.yaml``."""
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.source = source
        self.related_lists = default_related_lists() if related_lists is None else related_lists
        self.genre_labels = default_genre_labels() if genre_labels is None else genre_labels
        self._terms: list[_TermRef] = []
        self._compiled: list[_CompiledRule] = []
        table: dict[str, dict[str, list[int]]] = {}  # padded key -> language -> term ids
        # padded key -> term id -> the padded particle that must follow (separable verbs)
        split: dict[str, dict[int, str]] = {}
        languages: set[str] = set()
        for rule_index, rule in enumerate(self.rules):
            names = {g.name: i for i, g in enumerate(rule.groups)}
            for group_index, group in enumerate(rule.groups):
                for term in group.terms:
                    term_id = len(self._terms)
                    self._terms.append(
                        _TermRef(rule_index, group_index, group.name, term.text, term.key)
                    )
                    if term.lang != COMMON:
                        languages.add(term.lang)
                    tail = "" if term.kind == "prefix" else " "
                    for key in _keys(term.key):
                        padded = f" {scan_key(key)}{tail}"
                        table.setdefault(padded, {}).setdefault(term.lang, []).append(term_id)
                    if term.split:
                        particle = f" {scan_key(term.particle)} "
                        table.setdefault(particle, {})  # a key of no term: only looked for
                        for key in _keys(term.split):
                            padded = f" {scan_key(key)} "
                            table.setdefault(padded, {}).setdefault(term.lang, []).append(term_id)
                            split.setdefault(padded, {})[term_id] = particle
            self._compiled.append(_compile_rule(rule, names))
        self.languages = frozenset(languages)
        self._term_rule = [t.rule for t in self._terms]
        self._gates = [c.gates for c in self._compiled]
        # whether the bits of one term (its group's and its own) can pass some clause's gate
        self._one_term_may_pass = [
            any(need_all.bit_count() <= 1 and min_hits <= 1 for need_all, _, min_hits in gates)
            for gates in self._gates
        ]
        # a term's bits in its rule's mask: its group's, and one of its own above the rule's groups
        first_term: dict[int, int] = {}
        self._term_bits = []
        for term_id, ref in enumerate(self._terms):
            position = term_id - first_term.setdefault(ref.rule, term_id)
            shift = self._compiled[ref.rule].group_count + position
            self._term_bits.append((1 << ref.group) | (1 << shift))
        # per document language (or ``*``), the keys as that language sees them
        self._keys: dict[str, _Keys] = {
            lang: _Keys([], [], {}) for lang in (*self.languages, _ANY_LANGUAGE)
        }
        self._prefix: list[bool] = []
        keys: list[bytes] = []
        for key_index, (key, per_lang) in enumerate(table.items()):
            keys.append(key.encode())
            self._prefix.append(not key.endswith(" "))
            entry = self._entry(per_lang)
            # most keys mean the same in every language: work that out once, not per language
            last: _Ids = ()
            rules_of: tuple[bytes, tuple[int, ...]] = (b"", ())
            for lang, seen in self._keys.items():
                ids = entry.get(lang)
                seen.ids.append(ids)
                if ids is None:
                    seen.rules.append(b"")
                    continue
                if ids != last:
                    last, rules_of = ids, self._key_rules(ids)
                seen.rules.append(rules_of[0])
                if rules_of[1]:
                    seen.solo[key_index] = rules_of[1]
        # The crate's search loop is in Rust and returns one list (pyahocorasick yields to Python
        # per hit). A DFA scans small key sets fastest; from some thousands of keys on it grows
        # to tens of MB and its cache misses make the contiguous NFA, a fraction of its size,
        # faster (and 3x faster to build).
        implementation = (
            ahocorasick_rs.Implementation.DFA
            if len(keys) < _DFA_MAX_KEYS
            else ahocorasick_rs.Implementation.ContiguousNFA
        )
        self._automaton = (
            ahocorasick_rs.BytesAhoCorasick(keys, implementation=implementation) if keys else None
        )
        self.size = len(table)
        index = {key: i for i, key in enumerate(table)}
        # key index -> term id -> key index of the particle that must follow in the sentence
        self._split: dict[int, dict[int, int]] = {
            index[key]: {term_id: index[particle] for term_id, particle in terms.items()}
            for key, terms in split.items()
        }
        self._particles = frozenset(i for terms in self._split.values() for i in terms.values())

    def _entry(self, per_lang: dict[str, list[int]]) -> Entry:
        """Term ids per document language; ``*`` when the language is none of the rule set's."""
        common = per_lang.get(COMMON, [])
        targets = self.languages if common else per_lang.keys() - {COMMON}
        rule, bits = self._term_rule, self._term_bits
        entry = {
            lang: tuple((rule[i], i, bits[i]) for i in (*per_lang.get(lang, ()), *common))
            for lang in targets
        }
        entry[_ANY_LANGUAGE] = tuple(
            (rule[i], i, bits[i]) for ids in per_lang.values() for i in ids
        )
        return entry

    def _key_rules(self, ids: _Ids) -> tuple[bytes, tuple[int, ...]]:
        """A key's distinct rules (packed, see ``_Keys``), and those its bits alone let through
        the gate (the gate is monotone in the bits: they pass whatever else hits)."""
        if len(ids) == 1:
            rule_index, _, bits = ids[0]
            solo: tuple[int, ...] = ()
            if self._one_term_may_pass[rule_index] and self._passes(rule_index, bits):
                solo = (rule_index,)
            return rule_index.to_bytes(_PACKED_SIZE, sys.byteorder), solo
        masks: dict[int, int] = {}
        for rule_index, _, bits in ids:
            masks[rule_index] = masks.get(rule_index, 0) | bits
        # with one term per rule, most rules cannot pass on this key alone
        may_pass = self._one_term_may_pass if len(masks) == len(ids) else None
        solo = tuple(
            r
            for r, mask in masks.items()
            if (may_pass is None or may_pass[r]) and self._passes(r, mask)
        )
        return array(_PACKED, masks).tobytes(), solo

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Any:
        return iter(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def hits(self, doc: Document) -> dict[int, list[_Hit]]:
        """Automaton hits on word boundaries, grouped by rule index (the presearch)."""
        scan, found = self._scan(doc)
        seen = self._seen(doc)
        packed = b"".join(seen.rules[key_index] for key_index, _, _ in found)
        return self._group_hits(found, sorted(set(memoryview(packed).cast(_PACKED))), scan, doc)

    def _seen(self, doc: Document) -> _Keys:
        return self._keys[doc.language if doc.language in self.languages else _ANY_LANGUAGE]

    def _scan(self, doc: Document) -> tuple[bytes, list[_Found]]:
        """The scan text (UTF-8) and every automaton hit in it, in one call into the automaton."""
        if self._automaton is None:
            return b"", []
        folded = doc.folded
        if folded.isascii():
            scan = b" " + folded.encode().translate(_LATIN1_NON_WORD_BYTES) + b" "
        else:
            try:
                latin1 = folded.encode("latin-1")
            except UnicodeEncodeError:
                scan = f" {_NON_WORD.sub(' ', folded)} ".encode()
            else:
                blanked = latin1.translate(_LATIN1_NON_WORD_BYTES).decode("latin-1")
                scan = b" " + blanked.encode() + b" "
        return scan, self._automaton.find_matches_as_indexes(scan, overlapping=True)

    def candidates(self, doc: Document) -> list[tuple[int, list[_Hit]]]:
        """The rules that may fire on ``doc``, in rule set order, with their hits.

        A necessary condition only, and cheap: every group of some clause's all-of has a hit,
        one of its any-of groups too, and at least ``min_hits`` distinct terms have hits. With
        many rules most rules with a hit fail it (one term of an all-of rule, one term of a
        ``min_hits: 2`` rule) and never reach the per-group work of ``evaluate``; none-of groups,
        proximity, ignored sentences and facts are left to ``evaluate``.
        """
        scan, found = self._scan(doc)
        chosen = self._gate(self._seen(doc), found)
        if not chosen:
            return []
        by_rule = self._group_hits(found, chosen, scan, doc)
        outside = self._outside_related(doc)
        if outside is not None:
            return [(r, list(filter(outside, by_rule[r]))) for r in chosen]
        return [(rule_index, by_rule[rule_index]) for rule_index in chosen]

    def _outside_related(self, doc: Document) -> Callable[[_Hit], bool] | None:
        """A test that keeps the hits outside ``doc``'s related-headline lists; None when it
        has none."""
        cut = self.related_lists.spans(doc)
        if not cut:
            return None
        starts = [start for start, _ in cut]

        def kept(hit: _Hit) -> bool:
            i = bisect.bisect_right(starts, hit[0]) - 1
            return i < 0 or hit[0] >= cut[i][1]

        return kept

    def term_hits(self, doc: Document, rule_id: str) -> list[TermHit]:
        """Every hit of rule ``rule_id``'s terms in ``doc``, in text order, those in related
        lists left out, whether or not the rule passes the gate (``monitor.explain``); raises
        KeyError for an unknown rule."""
        rule = self.get(rule_id)
        if rule is None:
            raise KeyError(rule_id)
        index = self.rules.index(rule)
        scan, found = self._scan(doc)
        hits = self._group_hits(found, [index], scan, doc)[index]
        outside = self._outside_related(doc)
        terms = self._terms
        return sorted(
            TermHit(start, end, terms[term].group_name, terms[term].text)
            for start, end, term in (hits if outside is None else filter(outside, hits))
        )

    def _gate(self, seen: _Keys, found: list[_Found]) -> list[int]:
        """The rules whose bits (those of their hit groups and terms, or-ed in once per
        distinct key however often it occurs) pass some clause's gate (see ``candidates``), in
        rule set order.

        With many rules nearly every rule with a hit is hit by one key only, and whether one
        key's bits pass is known since loading (``_key_rules``): only the bits of rules hit by
        several keys are or-ed together here, and the rest is done in C."""
        if not found:
            return []
        keys = set(map(_first, found))
        hit = memoryview(b"".join(map(seen.rules.__getitem__, keys))).cast(_PACKED)
        solo = seen.solo
        chosen = {r for key_index in solo.keys() & keys for r in solo[key_index]}
        if len(set(hit)) < len(hit):
            several = {r for r, n in Counter(hit).items() if n > 1}
            masks: dict[int, int] = {}
            get = masks.get
            for key_index in keys:
                for rule_index, _, bits in seen.ids[key_index] or ():
                    if rule_index in several:
                        masks[rule_index] = get(rule_index, 0) | bits
            chosen.update(r for r, mask in masks.items() if self._passes(r, mask))
        return sorted(chosen)

    def _passes(self, rule_index: int, mask: int) -> bool:
        """Whether the bits of a rule's hit groups and terms pass some clause's gate."""
        for need_all, need_any, min_hits in self._gates[rule_index]:
            if mask & need_all != need_all or (need_any and not mask & need_any):
                continue
            # distinct term ids (the bits above the groups) bound the distinct term texts
            if min_hits <= 1 or (mask >> self._compiled[rule_index].group_count).bit_count() >= (
                min_hits
            ):
                return True
        return False

    def _group_hits(
        self, found: list[_Found], rules: Iterable[int], scan: bytes, doc: Document
    ) -> dict[int, list[_Hit]]:
        """The hits of ``rules``, per rule, in scan order, as folded character offsets."""
        by_rule: dict[int, list[_Hit]] = {rule_index: [] for rule_index in rules}
        per_key = self._seen(doc).ids
        chars = None if doc.folded.isascii() else _CharOffsets(scan)
        split = self._split
        particles: dict[int, list[int]] | None = None
        for key_index, start, stop in found:
            ids = per_key[key_index]
            if ids is None:
                continue
            needs = split.get(key_index) if split else None
            span: tuple[int, int] | None = None
            for rule_index, term_id, _ in ids:
                hits = by_rule.get(rule_index)
                if hits is None:
                    continue
                if span is None:
                    span = self._span(key_index, start, stop, chars, doc.folded)
                if needs is not None and term_id in needs:
                    if particles is None:
                        particles = self._particle_starts(found, chars, doc)
                    if not _followed_in_sentence(span, particles.get(needs[term_id], ()), doc):
                        continue
                hits.append((*span, term_id))
        return by_rule

    def _particle_starts(
        self, found: list[_Found], chars: _CharOffsets | None, doc: Document
    ) -> dict[int, list[int]]:
        """Where each separable verb particle occurs (folded offsets, ascending)."""
        starts: dict[int, list[int]] = {}
        for key_index, start, stop in found:
            if key_index in self._particles:
                span = self._span(key_index, start, stop, chars, doc.folded)
                starts.setdefault(key_index, []).append(span[0])
        return starts

    def _span(
        self, key_index: int, start: int, stop: int, chars: _CharOffsets | None, folded: str
    ) -> tuple[int, int]:
        """A hit's (start, end) in the folded text: an exact key ends where it does (before its
        trailing space), a prefix key where the word it starts does."""
        if chars is not None:
            start, stop = chars.at(start), chars.at(stop)
        if not self._prefix[key_index]:
            return start, stop - 2
        # the key's last character is at scan offset stop - 1: folded offset stop - 1 is the
        # character after it
        rest = _WORD_REST.match(folded, stop - 1)
        return start, rest.end() if rest is not None else stop - 1

    def evaluate(
        self, rule_index: int, hits: list[_Hit], doc: Document, facts: _LazyFacts
    ) -> Match | None:
        compiled = self._compiled[rule_index]
        terms = self._terms
        by_group: dict[int, list[_Hit]] = {}
        for hit in hits:
            by_group.setdefault(terms[hit[2]].group, []).append(hit)
        if compiled.scare_quotes and not compiled.scare_quotes.isdisjoint(by_group):
            by_group = _drop_scare_quoted(by_group, compiled.scare_quotes, doc.text)
        end = -1  # where the lead ends, once something asks
        for groups, min_hits, in_lead in compiled.vetoes:
            if not groups.isdisjoint(by_group):
                if in_lead and end < 0:
                    end = lead_end(doc, compiled.rule)
                texts = {
                    terms[h[2]].key
                    for g in groups
                    for h in by_group.get(g, ())
                    if not in_lead or h[0] < end
                }
                if len(texts) >= min_hits:
                    return None
        if compiled.ignore and not compiled.ignore.isdisjoint(by_group):
            by_group = _drop_ignored_sentences(by_group, compiled.ignore, doc)
        lead: dict[int, list[_Hit]] | None = None
        for clause in compiled.clauses:
            if lead is None and (clause.lead or clause.none_lead):
                if end < 0:
                    end = lead_end(doc, compiled.rule)
                lead = {g: [h for h in hs if h[0] < end] for g, hs in by_group.items()}
                lead = {g: hs for g, hs in lead.items() if hs}
            view = lead if clause.lead and lead is not None else by_group
            chosen = _clause_hits(clause, view, by_group, lead, doc, terms)
            if chosen is None:
                continue
            if clause.clause.facts is not None and not _facts_hold(
                clause.clause.facts,
                facts,
                _sentences_with(clause.figure_groups, by_group, doc),
                doc,
                chosen,
                [h for h in chosen if terms[h[2]].group in clause.destination_groups],
            ):
                continue
            return Match(compiled.rule, clause.clause.describe(), self._evidence(chosen, doc))
        return None

    def _evidence(self, hits: Iterable[_Hit], doc: Document) -> tuple[Evidence, ...]:
        out = []
        seen: set[tuple[str, int, int]] = set()
        for hit in sorted(set(hits)):
            start, end, term = hit
            ref = self._terms[term]
            if (ref.group_name, start, end) in seen:
                continue  # "doden" found as `doden` and as `~dode`: one piece of evidence
            seen.add((ref.group_name, start, end))
            s_start, s_end = doc.sentence_span(start)
            out.append(
                Evidence(
                    group=ref.group_name,
                    term=ref.text,
                    surface=doc.text[start:end],
                    span=Span(start, end),
                    sentence=doc.text[s_start:s_end],
                    sentence_span=Span(s_start, s_end),
                )
            )
        return tuple(out)


class _CharOffsets:
    """Character offsets of byte offsets into a UTF-8 text, asked for in (mostly) increasing
    order: each call decodes only the bytes between it and the previous one (hits start and end
    on characters, so every slice decodes)."""

    __slots__ = ("_byte", "_char", "_text")

    def __init__(self, text: bytes) -> None:
        self._text = text
        self._byte = 0
        self._char = 0

    def at(self, offset: int) -> int:
        if offset >= self._byte:
            self._char += len(self._text[self._byte : offset].decode())
        else:
            self._char -= len(self._text[offset : self._byte].decode())
        self._byte = offset
        return self._char


def _followed_in_sentence(span: tuple[int, int], particles: Sequence[int], doc: Document) -> bool:
    """Whether a particle follows the verb at ``span`` in its sentence ("roept ... uit")."""
    i = bisect.bisect_left(particles, span[1])
    return i < len(particles) and doc.sentence_index(particles[i]) == doc.sentence_index(span[0])


def _keys(key: str) -> tuple[str, ...]:
    # a lemma term carries its forms, "\x1f"-separated
    if "\x1f" not in key:
        return (key,) if key else ()
    return tuple(k for k in key.split("\x1f") if k)


def _compile_rule(rule: Rule, names: dict[str, int]) -> _CompiledRule:
    def ids(groups: Sequence[str]) -> tuple[int, ...]:
        return tuple(map(names.__getitem__, groups))

    def bits(groups: Sequence[str]) -> int:
        return sum(1 << g for g in set(ids(groups)))

    clauses = tuple(
        _CompiledClause(
            c,
            ids(c.all),
            ids(c.any),
            ids(c.none),
            c.within == "lead",
            ids(c.none_lead),
            ids(c.none_sentence),
            ids(c.facts.figure_sentence_with) if c.facts is not None else (),
            ids(c.facts.destination_after) if c.facts is not None else (),
        )
        for c in rule.clauses
    )
    gates = tuple((bits(c.all), bits(c.any), c.min_hits) for c in rule.clauses)
    ignore = frozenset(ids(rule.ignore_sentences_with))
    quoted = frozenset(ids(rule.scare_quotes))
    vetoes = tuple((frozenset(ids(v.any)), v.min_hits, v.within == "lead") for v in rule.vetoes)
    return _CompiledRule(rule, clauses, ignore, quoted, vetoes, gates, len(rule.groups))


def lead_end(doc: Document, rule: Rule) -> int:
    """Where ``rule``'s lead ends: after the first paragraph (an article's title:
    ``Article.body`` puts it first, then a blank line) and ``rule.lead_sentences`` sentences of
    prose after it. Without a blank line, the first sentence stands for the paragraph.

    Lines that are not prose before the story starts do not count (a scraped page's "Published
    25 November, updated 16:40", "By our correspondent in Moroni", a photo credit): the count
    starts at the first sentence that ends with terminal punctuation (``text.story_start``), so the
    lead still holds three sentences of the story. After it every sentence counts: a subheading
    there ends the story's opening, it does not stretch the lead.

    ``rule.lead_after_scene``: a first body paragraph longer than that is a feature's scene ("At
    three in the morning the boulevard smells of pepper spray ..."), and the news comes in the
    paragraph after it (the nut graf), so the lead runs as many sentences into that one. A text
    without a second paragraph keeps the plain count."""
    spans = doc.sentences
    first = title_sentences(doc)
    if rule.lead_after_scene and first < len(spans):
        scene_end = _paragraph_end(doc, spans[first][0])
        if (
            scene_end is not None
            and scene_end < len(spans)
            and scene_end - first > (rule.lead_sentences)
        ):
            first = scene_end
    last = min(story_start(doc, first) + rule.lead_sentences, len(spans)) - 1
    return spans[last][1] if last >= 0 else len(doc.text)


def title_sentences(doc: Document) -> int:
    """How many sentences the first paragraph (the title) has: those up to the one the first
    blank line ends (none starts on a blank), or 1 without a blank line."""
    text = doc.text
    end = _paragraph_end(doc, len(text) - len(text.lstrip()))
    return 1 if end is None else end


def _paragraph_end(doc: Document, offset: int) -> int | None:
    """How many sentences the text has up to the end of the paragraph at ``offset`` (the one
    the first blank line after it ends), or None when no blank line comes after it."""
    blank = doc.text.find("\n\n", offset)
    return None if blank < 0 else doc.sentence_index(blank) + 1


class RelatedLists:
    """Finds related-headline lists ("Lees ook:", "Read more:" and the headlines under them).

    A header is a marker at the start of a line (after an optional bullet), followed by ``:``, a
    dash, ``>`` or the end of the line. The list runs on over bulleted lines, short lines without
    a full stop (headlines) and blank lines between them, and ends at the first line of prose.
    """

    MAX_HEADLINE = 160
    _BULLETS = "-\u2013\u2014\u2022*\u00b7\u25ba\u00bb>|"

    def __init__(self, markers: Iterable[str]) -> None:
        keys = sorted({scan_key(fold(m)) for m in markers} - {""}, key=len)
        alternatives = "|".join(r"[\W_]+".join(map(re.escape, k.split())) for k in reversed(keys))
        bullets = re.escape(self._BULLETS)
        self._header = (
            re.compile(
                rf"^[ \t{bullets}]*(?:{alternatives})[ \t\u00a0]*(?:[:\-\u2013\u2014>\u00bb|]|$)",
                re.MULTILINE,
            )
            if keys
            else None
        )

    def spans(self, doc: Document) -> list[tuple[int, int]]:
        """(start, end) of every related list in ``doc``, in order, as text offsets."""
        if self._header is None:
            return []
        folded = doc.folded
        out: list[tuple[int, int]] = []
        for found in self._header.finditer(folded):
            if out and found.start() < out[-1][1]:
                continue
            end = folded.find("\n", found.end())
            end = len(folded) if end < 0 else end
            cursor = end
            while cursor < len(folded):
                nxt = folded.find("\n", cursor + 1)
                line_end = len(folded) if nxt < 0 else nxt
                line = folded[cursor + 1 : line_end].strip()
                if line and not self._headline(line):
                    break
                if line:
                    end = line_end
                cursor = line_end
            out.append((found.start(), end))
        return out

    def _headline(self, line: str) -> bool:
        if line[0] in self._BULLETS:
            return True
        return len(line) <= self.MAX_HEADLINE and line[-1] not in ".:;"


@functools.cache
def default_related_lists() -> RelatedLists:
    """The packaged markers (``monitor/data/related_lists.yaml``), read once per process."""
    raw = yaml.safe_load(
        resources.files("monitor").joinpath("data/related_lists.yaml").read_text("utf-8")
    )
    return RelatedLists(m for markers in raw["markers"].values() for m in markers)


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


def _facts_hold(
    condition: FactCondition,
    lazy: _LazyFacts,
    sentences: set[int] | None,
    doc: Document,
    chosen: Sequence[_Hit],
    departures: Sequence[_Hit] = (),
) -> bool:
    """``sentences``: where the figures must stand (``figure_sentence_with``), or None;
    ``chosen``: the clause's hits (their sentences are where ``foreign_actor: sentence`` looks);
    ``departures``: those of them a destination must follow (``destination_after``)."""
    facts = lazy.get()
    if facts is None:
        return False
    if condition.min_countries and len(facts.countries) < condition.min_countries:
        return False
    if condition.foreign_actor and not _foreign(condition, facts, doc, chosen):
        return False
    if condition.destination_after and not _destination(facts, doc, departures):
        return False
    placed = _placed_figures(facts) if sentences is not None else None
    for kind, minimum in condition.figures:
        if placed is not None and sentences is not None:
            if not any(
                k == kind and v >= minimum and doc.sentence_index(at) in sentences
                for k, v, at in placed
            ):
                return False
            continue
        value = facts.figure(kind)
        if value is None or value < minimum:
            return False
    return True


def _foreign(condition: FactCondition, facts: Facts, doc: Document, chosen: Sequence[_Hit]) -> bool:
    """A country other than the location: anywhere (``foreign_actor: true``, as an actor), or
    named in a sentence of the clause's hits or in the title (``sentence``: the headline names
    who went where, "Polish soldiers in Latvia", and the body sentence the act, "the first
    group reached the base"). Facts that cannot place their mentions (a rule test's stated
    facts) answer as for ``true``. A territory counts as its state (``_home``): French troops
    in Mayotte are at home."""
    location = facts.location
    if location is None:
        return False
    home = _home(facts)
    location = home(location)
    placed = _placed_countries(facts) if condition.foreign_actor == "sentence" else None
    if placed is None:
        return any(home(code) != location for code in facts.actors)
    where = {doc.sentence_index(h[0]) for h in chosen}
    title = title_sentences(doc)
    return any(
        home(code) != location and ((i := doc.sentence_index(at)) < title or i in where)
        for code, at in placed
    )


def _home(facts: Facts) -> Callable[[str], str]:
    """The state a country code belongs to (a territory's state), when the facts know it."""
    home = getattr(facts, "home", None)
    return home if callable(home) else _itself


def _itself(code: str) -> str:
    return code


# between "leave for" and the country: spaces and at most an article ("the", "il", "l'")
_DESTINATION_GAP = re.compile(r"[\s'\u2019]*(?:\w{1,3}[\s'\u2019]+)?")


def _destination(facts: Facts, doc: Document, departures: Sequence[_Hit]) -> bool:
    """A country named right after a departure hit (an article may stand between), and not
    named before the hit in its sentence too (the troops' own country: "Mexican soldiers head
    for Mexico's north"). Named: by its name, adjective or demonym (``country_names``), not by a
    city; facts without them fall back on ``country_mentions``. Facts that cannot place their
    mentions answer no: a destination is a matter of position."""
    placed = getattr(facts, "country_names", None)
    if not isinstance(placed, tuple):
        placed = _placed_countries(facts)
    if not placed:
        return False
    home = _home(facts)
    for start, end, _ in departures:
        sentence = doc.sentence_index(start)
        for code, at in placed:
            if at < end or not _DESTINATION_GAP.fullmatch(doc.text, end, at):
                continue
            if not any(
                home(other) == home(code)
                and other_at < start
                and doc.sentence_index(other_at) == sentence
                for other, other_at in placed
            ):
                return True
    return False


def _placed_countries(facts: Facts) -> tuple[tuple[str, int], ...] | None:
    """(code, start offset) of every country mention enrichment found, or None when the facts
    cannot place them (a rule test's stated facts)."""
    placed = getattr(facts, "country_mentions", None)
    return placed if isinstance(placed, tuple) else None


def _placed_figures(facts: Facts) -> list[tuple[str, int, int]] | None:
    """(kind, value, start offset) of every figure enrichment found, or None when the facts
    cannot place their figures (a rule test's stated facts: their figures count anywhere)."""
    figures = getattr(facts, "figures", None)
    if not isinstance(figures, tuple) or not all(isinstance(f, Figure) for f in figures):
        return None
    return [(f.kind, f.value, f.span.start) for f in figures]


def _sentences_with(
    groups: tuple[int, ...], by_group: dict[int, list[_Hit]], doc: Document
) -> set[int] | None:
    """Sentence indexes with a hit of ``groups`` (None when the clause names no groups)."""
    if not groups:
        return None
    return {doc.sentence_index(h[0]) for g in groups for h in by_group.get(g, ())}


# Quotation marks that open and close a word in scare quotes, in the languages' conventions
# ("coup", „Putsch“, « putsch », „zamach”, 'coup'); French guillemets stand a space apart.
_OPENING_QUOTES = frozenset("\"'\u201c\u201d\u201e\u2018\u201a\u00ab\u2039")
_CLOSING_QUOTES = frozenset("\"'\u201c\u201d\u2019\u2018\u00bb\u203a")
_GUILLEMET_SPACES = frozenset(" \u00a0\u202f")


def scare_quoted(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` alone stands between quotation marks."""
    before = start - 1
    if before > 0 and text[before] in _GUILLEMET_SPACES and text[before - 1] in "\u00ab\u2039":
        before -= 1
    after = end
    if (
        after + 1 < len(text)
        and text[after] in _GUILLEMET_SPACES
        and text[after + 1] in "\u00bb\u203a"
    ):
        after += 1
    return (
        before >= 0
        and after < len(text)
        and text[before] in _OPENING_QUOTES
        and text[after] in _CLOSING_QUOTES
    )


def _drop_scare_quoted(
    by_group: dict[int, list[_Hit]], groups: frozenset[int], text: str
) -> dict[int, list[_Hit]]:
    """The hits without those of ``groups`` that stand in scare quotes (``scare_quotes``)."""
    kept: dict[int, list[_Hit]] = {}
    for group, hits in by_group.items():
        if group in groups:
            hits = [h for h in hits if not scare_quoted(text, h[0], h[1])]
        if hits:
            kept[group] = hits
    return kept


def _drop_ignored_sentences(
    by_group: dict[int, list[_Hit]], ignore: frozenset[int], doc: Document
) -> dict[int, list[_Hit]]:
    """Hits in a sentence that also has an ignored group's hit do not count (false friends)."""
    bad = {doc.sentence_index(h[0]) for g in ignore for h in by_group.get(g, ())}
    kept: dict[int, list[_Hit]] = {}
    for group, hits in by_group.items():
        if group in ignore:
            continue
        remaining = [h for h in hits if doc.sentence_index(h[0]) not in bad]
        if remaining:
            kept[group] = remaining
    return kept


def _clause_hits(
    clause: _CompiledClause,
    by_group: dict[int, list[_Hit]],
    article: dict[int, list[_Hit]],
    lead: dict[int, list[_Hit]] | None,
    doc: Document,
    terms: list[_TermRef],
) -> list[_Hit] | None:
    """The hits that make ``clause`` hold, or None. ``by_group`` are the hits its all/any groups
    may use (the lead's, for ``in: lead``); its none-of groups see ``article`` (the hits left
    after ignored sentences), ``lead`` (the same, in the lead; computed when the clause has
    lead-scoped none-of groups or ``in: lead``), or the sentences of the chosen hits in it."""
    for group in clause.all:
        if group not in by_group:
            return None
    present_any = [g for g in clause.any if g in by_group]
    if clause.any and not present_any:
        return None
    for group in clause.none:
        if group in article:
            return None
    if lead is not None:
        for group in clause.none_lead:
            if group in lead:
                return None
    groups = (*clause.all, *present_any)
    near = clause.clause.near
    if near is None:
        chosen = [h for g in groups for h in by_group[g]]
    elif near == "sentence":
        chosen = _near(clause, by_group, groups, lambda h: doc.sentence_index(h[0]), 0)
    else:
        chosen = _near(clause, by_group, groups, lambda h: doc.token_index(h[0]), near)
    if not chosen:
        return None
    if clause.clause.min_hits > 1 and len({terms[h[2]].key for h in chosen}) < (
        clause.clause.min_hits
    ):
        return None
    if clause.none_sentence and _shares_a_sentence(chosen, clause.none_sentence, article, doc):
        return None
    return chosen


def _shares_a_sentence(
    chosen: list[_Hit], groups: tuple[int, ...], article: dict[int, list[_Hit]], doc: Document
) -> bool:
    """Whether a hit of ``groups`` stands in a sentence that holds one of the ``chosen`` hits
    (a sentence-scoped none-of: the evidence itself says "its own border", the background
    may)."""
    excluded = _sentences_with(groups, article, doc)
    if not excluded:
        return False
    return any(doc.sentence_index(h[0]) in excluded for h in chosen)


def _near(
    clause: _CompiledClause,
    by_group: dict[int, list[_Hit]],
    groups: Sequence[int],
    position: Callable[[_Hit], int],
    width: int,
) -> list[_Hit]:
    """Hits inside windows (a sentence, or ``width`` tokens) where the clause's groups co-occur."""
    placed = sorted(
        ((position(h), g, h) for g in groups for h in by_group[g]), key=lambda p: (p[0], p[2][0])
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
    passed its term logic. Without it, fact conditions are false. A rule whose ``skip_genres``
    the article is labelled with (``monitor.genres``) does not fire; the labels are read once.
    """
    candidates = ruleset.candidates(doc)
    if not candidates:
        return []
    lazy = _LazyFacts(facts)
    genres: frozenset[str] | None = None  # the article's genre labels, once a rule asks
    out = []
    for rule_index, hits in candidates:
        skipped = ruleset.rules[rule_index].skip_genres
        if skipped:
            if genres is None:
                genres = ruleset.genre_labels.genres(doc)
            if not genres.isdisjoint(skipped):
                continue  # an opinion piece, a review, an obituary: no report of news
        found = ruleset.evaluate(rule_index, hits, doc, lazy)
        if found is not None:
            out.append(found)
    return out
