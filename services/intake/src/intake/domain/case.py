"""The case: a person in need, owned by one organisation, moving through its workflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from intake.domain import validation as v
from intake.domain.errors import InvalidField, InvalidTransition


class CaseKind(StrEnum):
    MISSING_PERSON = "missing-person"
    FOUND_PERSON = "found-person"
    UNIDENTIFIED_REMAINS = "unidentified-remains"
    SURVIVOR_SUPPORT = "survivor-support"


class CaseStatus(StrEnum):
    OPEN = "open"
    ASSESSMENT = "assessment"
    SUPPORT_PLAN = "support-plan"
    SERVICES_IN_PROGRESS = "services-in-progress"
    CLOSED = "closed"
    REOPENED = "reopened"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_S = CaseStatus
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.OPEN: frozenset({_S.ASSESSMENT, _S.CLOSED}),
    _S.ASSESSMENT: frozenset({_S.SUPPORT_PLAN, _S.CLOSED}),
    _S.SUPPORT_PLAN: frozenset({_S.SERVICES_IN_PROGRESS, _S.ASSESSMENT, _S.CLOSED}),
    _S.SERVICES_IN_PROGRESS: frozenset({_S.SUPPORT_PLAN, _S.CLOSED}),
    _S.CLOSED: frozenset({_S.REOPENED}),
    _S.REOPENED: frozenset({_S.ASSESSMENT, _S.CLOSED}),
}


@dataclass
class PersonInNeed:
    """Who the case is about, as far as known when it is opened (personal: sealed at rest)."""

    display_name: str | None = None
    date_of_birth: date | None = None
    estimated_age: int | None = None

    def validated(self, today: date) -> PersonInNeed:
        """A copy with the name in NFC; `InvalidField` for impossible values."""
        name = (v.clean_name("person.display_name", self.display_name)
                if self.display_name is not None else None)
        v.not_in_future("person.date_of_birth", self.date_of_birth, today)
        v.plausible_age("person.estimated_age", self.estimated_age)
        if self.date_of_birth and v.age_on(self.date_of_birth, today) > v.MAX_AGE:
            raise InvalidField("person.date_of_birth", "gives an impossible age",
                               "impossible-age")
        return PersonInNeed(name, self.date_of_birth, self.estimated_age)


@dataclass
class Case:
    """A case and its workflow state. Personal details are in `person` only."""

    id: UUID
    organisation_id: str
    kind: CaseKind
    risk_level: RiskLevel
    person: PersonInNeed
    subject_key_id: str
    opened_by: str
    opened_at: datetime
    is_minor: bool = False
    status: CaseStatus = CaseStatus.OPEN
    assignees: list[str] = field(default_factory=list)
    version: int = 1

    def move_to(self, status: CaseStatus) -> None:
        """Follow the workflow; `InvalidTransition` for a step it does not allow."""
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"A case cannot go from {self.status} to {status}.")
        self.status = status
        self.version += 1

    def set_risk(self, level: RiskLevel) -> None:
        """Re-assess the risk level (any time, even on a closed case)."""
        if level is not self.risk_level:
            self.risk_level = level
            self.version += 1

    def assign(self, username: str) -> None:
        """Add a caseworker to the case (idempotent)."""
        if username not in self.assignees:
            self.assignees.append(username)
            self.version += 1

    def concerns_minor(self, minor: bool) -> None:
        """Record that the case concerns a minor; once a minor, always treated as one."""
        if minor and not self.is_minor:
            self.is_minor = True
            self.version += 1
