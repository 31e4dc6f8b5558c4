"""A rule as the engine sees it: typed, immutable, built by ``monitor.ruleset`` from a YAML file.

A rule has named term *groups* (phrases per language), *clauses* that combine groups (the rule
fires when any clause holds, like EMM's ``combinations``), exclusions scoped to the article, the
lead or the clause's own sentences (EMM's ``NOT`` groups, Sigma's ``and not``), fact conditions
on enrichment, a severity policy, and its own examples (``tests``).

Term syntax, one phrase per string, always matched on folded text (case and diacritics ignored):

- ``troepen``        the exact word or phrase, on word boundaries
- ``troep*``         a prefix: the last word may continue (``troepen``, ``troepenmacht``)
- ``~inroepen``      the lemma: every dictionary form of it (``ingeroepen``, ``inroepen``... as
                     far as simplemma's dictionary knows them), expanded when the rule set loads;
                     a Dutch or German separable verb also matches split, as main clauses put it
                     (``riep ... in``: a finite form, then the particle later in the sentence)

There is no raw regex on purpose: no catastrophic backtracking, and every term fits one automaton.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from monitor.alert import Severity

FIGURE_KINDS = ("deaths", "injured", "arrests", "troops", "vehicles")
COMMON = "common"  # the language key of terms that are the same in every language (CSTO, NATO)

TermKind = Literal["exact", "prefix", "lemma"]
# where an exclusion looks: the whole article, the lead (title and first sentences), or the
# sentences that hold a clause's chosen hits (its evidence)
Scope = Literal["article", "lead", "sentence"]


@dataclass(frozen=True, slots=True)
class Term:
    """One phrase of one group in one language, as the editor wrote it."""

    text: str
    lang: str
    kind: TermKind
    # the folded phrase without ``*``/``~``: the automaton key (lemma terms add their forms)
    key: str
    # a separable verb (``~uitroepen``): its particle, and the finite forms of the verb without
    # it ("\x1f"-separated, like ``key``) that count when the particle follows in the sentence
    particle: str = ""
    split: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    """Named alternatives: the group hits when any of its terms does."""

    name: str
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class FactCondition:
    """What enrichment must say for a clause to hold. Without facts, a condition is false."""

    min_countries: int = 0
    # True: some country other than the location is mentioned anywhere in the article;
    # "sentence": one is named in a sentence that holds the clause's hits or in the title, so a
    # foreign country of the background does not make the troops foreign
    foreign_actor: bool | Literal["sentence"] = False
    figures: tuple[tuple[str, int], ...] = ()
    # the figures must stand in a sentence with a hit of one of these groups (their own event)
    figure_sentence_with: tuple[str, ...] = ()
    # a country is named right after a hit of one of these groups ("leave for Estonia", "parten
    # hacia Letonia"): the troops go there, so they are foreign to it, unless their sentence
    # names that same country before, as theirs ("Mexican soldiers head for Mexico's north")
    destination_after: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.min_countries:
            parts.append(f"countries >= {self.min_countries}")
        if self.foreign_actor == "sentence":
            parts.append("a country other than the location named in the matched sentence or title")
        elif self.foreign_actor:
            parts.append("an actor country other than the location")
        parts.extend(f"{kind} >= {minimum}" for kind, minimum in self.figures)
        if self.figure_sentence_with:
            parts.append(f"in a sentence with {' or '.join(self.figure_sentence_with)}")
        if self.destination_after:
            parts.append(f"a country named right after {' or '.join(self.destination_after)}")
        return ", ".join(parts)


# how ``describe`` names the none-of groups of each scope
_NONE_LABELS: dict[Scope, str] = {
    "article": "none",
    "lead": "none in the lead",
    "sentence": "none in its sentences",
}


@dataclass(frozen=True, slots=True)
class Clause:
    """One way for the rule to fire: group logic, proximity, then facts."""

    name: str
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    # none-of groups, by scope: a hit anywhere in the article (``none``), in the lead
    # (``none_lead``), or in a sentence holding one of the clause's chosen hits
    # (``none_sentence``); all three see the hits left after ``ignore_sentences_with``
    none: tuple[str, ...] = ()
    min_hits: int = 1
    near: int | Literal["sentence"] | None = None
    facts: FactCondition | None = None
    # "lead": the all/any groups only count their hits in the title and the lead sentences
    within: Literal["article", "lead"] = "article"
    none_lead: tuple[str, ...] = ()
    none_sentence: tuple[str, ...] = ()

    def excluded(self) -> dict[Scope, tuple[str, ...]]:
        """The none-of groups of each scope that has some."""
        scoped: dict[Scope, tuple[str, ...]] = {
            "article": self.none,
            "lead": self.none_lead,
            "sentence": self.none_sentence,
        }
        return {scope: groups for scope, groups in scoped.items() if groups}

    def describe(self) -> str:
        """Human readable, for the alert: ``name: all(a, b) any(c) near sentence; facts ...``."""
        parts = []
        if self.all:
            parts.append(f"all({', '.join(self.all)})")
        if self.any:
            parts.append(f"any({', '.join(self.any)})")
        parts.extend(
            f"{_NONE_LABELS[scope]}({', '.join(g)})" for scope, g in self.excluded().items()
        )
        if self.min_hits > 1:
            parts.append(f"min_hits {self.min_hits}")
        if self.near == "sentence":
            parts.append("in one sentence")
        elif self.near is not None:
            parts.append(f"within {self.near} tokens")
        if self.within == "lead":
            parts.append("in the lead")
        logic = " ".join(parts)
        if self.facts is not None:
            logic += f"; facts: {self.facts.describe()}"
        return f"{self.name}: {logic}" if self.name else logic


@dataclass(frozen=True, slots=True)
class Veto:
    """The rule does not fire when at least ``min_hits`` distinct terms of ``any`` hit anywhere
    in the article (``within="lead"``: in its lead), in sentences ``ignore_sentences_with``
    removed too."""

    any: tuple[str, ...]
    min_hits: int = 1
    within: Literal["article", "lead"] = "article"


DEFAULT_LEAD_SENTENCES = 3


@dataclass(frozen=True, slots=True)
class Escalation:
    """Raise severity ``to`` a level once a figure or the story's source count reaches ``min``."""

    kind: Literal["figure", "sources"]
    figure: str | None
    min: int
    to: Severity


@dataclass(frozen=True, slots=True)
class SeverityPolicy:
    """The base severity of a rule's alerts and when to escalate (applied by the story stage)."""

    base: Severity
    escalate: tuple[Escalation, ...] = ()


@dataclass(frozen=True, slots=True)
class Example:
    """A short text that must (or must not) fire the rule; ``facts`` stand in for enrichment when
    the rule tests run on the engine alone."""

    lang: str
    text: str
    line: int = 0
    countries: frozenset[str] = frozenset()
    location: str | None = None
    actors: frozenset[str] = frozenset()
    figures: tuple[tuple[str, int], ...] = ()
    has_facts: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert definition, loaded from ``rules/<id>.yaml``."""

    id: str
    title: str
    severity: SeverityPolicy
    groups: tuple[Group, ...]
    clauses: tuple[Clause, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    event_code: str | None = None
    ignore_sentences_with: tuple[str, ...] = ()
    # hits of these groups standing alone between quotation marks (scare quotes: a „Putsch“ in
    # a party, a « putsch » in a union) do not count: the writer does not vouch for the word
    scare_quotes: tuple[str, ...] = ()
    # genre labels (monitor.genres: "Opinion:", "Nachruf:") of articles the rule does not fire on
    skip_genres: tuple[str, ...] = ()
    vetoes: tuple[Veto, ...] = ()
    # the lead: the article's first paragraph (its title) and this many sentences after it
    lead_sentences: int = DEFAULT_LEAD_SENTENCES
    # a first body paragraph longer than lead_sentences is a feature's scene: the lead then
    # runs lead_sentences sentences into the paragraph after it (the nut graf)
    lead_after_scene: bool = False
    should_match: tuple[Example, ...] = field(default=(), repr=False)
    should_not_match: tuple[Example, ...] = field(default=(), repr=False)
    source: str = ""

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)
