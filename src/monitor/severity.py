"""Severity: a rule's base level, escalated by what the article reports and how many sources do.

Pure. Called once when a match is enriched (figures) and again in the story stage (sources).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from monitor.alert import SEVERITIES, Severity


class Escalation(Protocol):
    """One step of a rule's ``severity.escalate`` list."""

    @property
    def kind(self) -> str: ...  # "figure" or "sources"

    @property
    def figure(self) -> str | None: ...

    @property
    def min(self) -> int: ...

    @property
    def to(self) -> str: ...


def rank(level: str) -> int:
    """Position of ``level`` in ``SEVERITIES`` (low = 0)."""
    return SEVERITIES.index(level)


def assess(
    base: Severity,
    escalations: Iterable[Escalation],
    *,
    figure: Callable[[str], int | None],
    sources: int,
) -> tuple[Severity, tuple[str, ...]]:
    """The highest level reached and the reasons, e.g. ``"deaths >= 100 (164)"``."""
    level: Severity = base
    reasons = [f"base {base}"]
    for step in escalations:
        if step.kind == "figure" and step.figure is not None:
            value = figure(step.figure)
            if value is None or value < step.min:
                continue
            reason = f"{step.figure} >= {step.min} ({value}) -> {step.to}"
        elif step.kind == "sources":
            if sources < step.min:
                continue
            reason = f"sources >= {step.min} ({sources}) -> {step.to}"
        else:
            continue
        reasons.append(reason)
        if rank(step.to) > rank(level):
            level = SEVERITIES[rank(step.to)]
    return level, tuple(reasons)
