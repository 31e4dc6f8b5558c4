"""Why a rule fires on an article, or why not: for rule authors (``monitor match --explain``).

A match carries its evidence; a miss carries nothing. ``explain`` lists every hit of the rule's
terms with the sentence it stands in, whether it is in the lead, and what drops it before the
clauses look (a sentence an ``ignore_sentences_with`` group removes, scare quotes), then says
which clause fired or that none did. It reads the engine's own hits and decision (``match``), so
it cannot disagree with the worker; the per-clause conditions it leaves to the reader of the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.engine import Facts, RuleSet, TermHit, lead_end, match, scare_quoted
from monitor.text import Document


@dataclass(frozen=True, slots=True)
class ExplainedHit:
    """One hit of the rule's terms and what becomes of it."""

    group: str
    term: str
    surface: str
    start: int
    end: int
    sentence: int  # index into the document's sentences
    in_lead: bool
    dropped: str | None  # why the clauses do not see it, or None


@dataclass(frozen=True, slots=True)
class Explanation:
    rule_id: str
    language: str
    clause: str | None  # the clause that fired, or None
    lead_end: int  # the lead is the text before this offset
    hits: tuple[ExplainedHit, ...]
    # what enrichment found, when facts were given: where, and who acts (``foreign_actor``)
    location: str | None = None
    actors: tuple[str, ...] = ()

    def render(self) -> str:
        """The explanation as text: the verdict, then one line per hit."""
        verdict = f"fires: {self.clause}" if self.clause else "does not fire"
        lines = [f"{self.rule_id} ({self.language}): {verdict}"]
        if self.location or self.actors:
            lines.append(
                f"  location {self.location or '-'}, actors {', '.join(self.actors) or '-'}"
            )
        if not self.hits:
            lines.append("  no term of the rule occurs in the text")
        for hit in self.hits:
            where = f"s{hit.sentence:<3}{'lead' if hit.in_lead else '    '}"
            note = f"  -- {hit.dropped}" if hit.dropped else ""
            lines.append(f"  {where} {hit.group:<20} {hit.surface!r} ({hit.term}){note}")
        return "\n".join(lines)


def explain(
    doc: Document, ruleset: RuleSet, rule_id: str, facts: Callable[[], Facts] | None = None
) -> Explanation:
    """``rule_id`` on ``doc``: its hits and the engine's verdict (KeyError: unknown rule)."""
    rule = ruleset.get(rule_id)
    if rule is None:
        raise KeyError(rule_id)
    hits = ruleset.term_hits(doc, rule_id)
    end = lead_end(doc, rule)
    ignoring = set(rule.ignore_sentences_with)
    ignored = {doc.sentence_index(h.start): h.group for h in hits if h.group in ignoring}
    quoted = set(rule.scare_quotes)

    def dropped(hit: TermHit) -> str | None:
        if hit.group in quoted and scare_quoted(doc.text, hit.start, hit.end):
            return "in scare quotes"
        if hit.group in ignoring:
            return "drops its sentence (ignore_sentences_with)"
        by = ignored.get(doc.sentence_index(hit.start))
        return f"sentence dropped by {by!r}" if by is not None else None

    fired = next((m for m in match(doc, ruleset, facts) if m.rule.id == rule_id), None)
    found = facts() if facts is not None else None
    return Explanation(
        rule_id=rule_id,
        language=doc.language,
        clause=fired.clause if fired is not None else None,
        lead_end=end,
        hits=tuple(
            ExplainedHit(
                group=h.group,
                term=h.term,
                surface=doc.text[h.start : h.end],
                start=h.start,
                end=h.end,
                sentence=doc.sentence_index(h.start),
                in_lead=h.start < end,
                dropped=dropped(h),
            )
            for h in hits
        ),
        location=found.location if found is not None else None,
        actors=tuple(sorted(found.actors)) if found is not None else (),
    )
