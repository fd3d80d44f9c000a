"""Trafficking screening (§17): indicators, then reasonable- and conclusive-grounds decisions.

The decisions are steps an authorised role takes in order: a positive reasonable-grounds
decision makes the person a presumed victim; only then can conclusive grounds identify them.
A reconsideration request reopens a negative decision so that it can be taken again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from intake.domain import validation as v
from intake.domain.errors import InvalidField, InvalidTransition

INDICATORS: dict[str, frozenset[str]] = {
    "recruitment-deception": frozenset({
        "false-job-offer", "deceived-about-conditions", "recruitment-debt",
        "recruited-by-intermediary"}),
    "coercion": frozenset({
        "threats", "violence", "threats-to-family", "debt-bondage", "documents-confiscated"}),
    "exploitation": frozenset({
        "wages-withheld", "excessive-hours", "sexual-exploitation", "forced-criminality",
        "forced-begging", "degrading-conditions"}),
    "movement-control": frozenset({
        "confined", "always-accompanied", "no-access-to-documents", "isolated"}),
}
ALL_INDICATORS = frozenset().union(*INDICATORS.values())


class Stage(StrEnum):
    REASONABLE_GROUNDS = "reasonable-grounds"
    CONCLUSIVE_GROUNDS = "conclusive-grounds"


class Outcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


@dataclass
class Decision:
    """One decision step; `reasons` is personal (sealed at rest)."""

    stage: Stage
    outcome: Outcome
    decision_date: date
    reasons: str
    decided_by: str
    decided_at: datetime
    superseded: bool = False


@dataclass
class TraffickingScreening:
    """Indicators observed for a case's person, and the decisions that followed."""

    id: UUID
    case_id: UUID
    indicators: frozenset[str]
    notes: str | None
    screened_by: str
    screened_at: datetime
    decisions: list[Decision] = field(default_factory=list)
    reconsideration_requested: Stage | None = None

    @classmethod
    def screen(cls, id: UUID, case_id: UUID, indicators: list[str], notes: str | None,
               screened_by: str, now: datetime) -> TraffickingScreening:
        """A new screening; `InvalidField` for an indicator outside the catalogue."""
        for i, code in enumerate(indicators):
            if code not in ALL_INDICATORS:
                raise InvalidField(f"indicators.{i}", "is not a known indicator", "enum")
        return cls(id, case_id, frozenset(indicators), v.clean_text("notes", notes),
                   screened_by, now)

    @property
    def categories(self) -> list[str]:
        """The indicator categories with at least one indicator observed."""
        return [c for c, codes in INDICATORS.items() if codes & self.indicators]

    @property
    def result(self) -> str:
        """no-indicators, indicators-present (one category), strong-indication (several)."""
        n = len(self.categories)
        return "no-indicators" if n == 0 else "indicators-present" if n == 1 else \
            "strong-indication"

    def current(self, stage: Stage) -> Decision | None:
        """The standing decision of a stage, if any."""
        for d in reversed(self.decisions):
            if d.stage is stage and not d.superseded:
                return d
        return None

    def decide(self, stage: Stage, outcome: Outcome, decision_date: date, reasons: str,
               decided_by: str, now: datetime, today: date) -> Decision:
        """Record a decision step; `InvalidTransition` when out of order or already taken."""
        reasons_clean = v.clean_text("reasons", reasons)
        if not reasons_clean:
            raise InvalidField("reasons", "must not be empty", "empty")
        v.not_in_future("decision_date", decision_date, today)
        if self.current(stage) is not None:
            raise InvalidTransition("This decision was already taken; request a "
                                    "reconsideration first.")
        if stage is Stage.CONCLUSIVE_GROUNDS:
            rg = self.current(Stage.REASONABLE_GROUNDS)
            if rg is None or rg.outcome is not Outcome.POSITIVE:
                raise InvalidTransition("Conclusive grounds need positive reasonable grounds.")
            v.not_before("decision_date", decision_date, "the reasonable-grounds decision",
                         rg.decision_date)
        decision = Decision(stage, outcome, decision_date, reasons_clean, decided_by, now)
        self.decisions.append(decision)
        if self.reconsideration_requested is stage:
            self.reconsideration_requested = None
        return decision

    def request_reconsideration(self, stage: Stage) -> None:
        """Reopen a negative decision so it can be taken again."""
        standing = self.current(stage)
        if standing is None or standing.outcome is not Outcome.NEGATIVE:
            raise InvalidTransition("Only a negative decision can be reconsidered.")
        standing.superseded = True
        self.reconsideration_requested = stage
