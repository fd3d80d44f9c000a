"""Family notification: after a confirmed match, someone must tell the family.

Each confirmation that ends a search (a family link restored, remains identified) opens a task
for the organisation of the enquirer, the family's caseworkers, who move it on:
`open → in-progress → done`. What the task is about (a restored link or a death) is itself an
outcome that may amount to "believed dead", so only holders of `deceased_records` see its kind
and candidate; everyone in the organisation sees that a family awaits news about a record.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

DECEASED_ROLE = "deceased_records"
NOTIFIER_ROLES = frozenset({"caseworker", "supervisor"})


class NotificationError(Exception):
    """A rule of family notification was broken; the message quotes no submitted value."""


class NotificationStepRefused(NotificationError):
    """The task cannot move to that state from where it stands."""


class NotificationKind(enum.StrEnum):
    FAMILY_LINK = "family-link"
    IDENTIFICATION = "identification"


class NotificationState(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in-progress"
    DONE = "done"


_NEXT = {NotificationState.OPEN: NotificationState.IN_PROGRESS,
         NotificationState.IN_PROGRESS: NotificationState.DONE}


@dataclass(frozen=True)
class NotificationOpened:
    task: FamilyNotificationTask


@dataclass(frozen=True)
class NotificationMoved:
    task: FamilyNotificationTask


@dataclass(eq=False)
class FamilyNotificationTask:
    """The task of telling one enquirer's family about one confirmed match (aggregate)."""

    id: UUID
    candidate_id: UUID
    kind: NotificationKind
    case_id: UUID
    record_ref: str
    organisation_id: str
    state: NotificationState
    opened_at: datetime
    changed_at: datetime
    version: int = 1
    # The match involves a child: the family is told with child protection, after a
    # best-interests assessment, not by a caseworker alone.
    involves_minor: bool = False
    events: list[NotificationOpened | NotificationMoved] = field(default_factory=list)

    @classmethod
    def open(cls, id: UUID, candidate_id: UUID, kind: NotificationKind,  # noqa: A002
             case_id: UUID, record_ref: str, organisation_id: str, at: datetime,
             involves_minor: bool = False) -> FamilyNotificationTask:
        """A new task for the enquirer's organisation."""
        task = cls(id=id, candidate_id=candidate_id, kind=kind, case_id=case_id,
                   record_ref=record_ref, organisation_id=organisation_id,
                   state=NotificationState.OPEN, opened_at=at, changed_at=at,
                   involves_minor=involves_minor)
        task.events.append(NotificationOpened(task.snapshot()))
        return task

    def visible_to(self, org: str, roles: frozenset[str]) -> bool:
        """Only the enquirer's organisation, and there its caseworkers and supervisors."""
        return org == self.organisation_id and bool(roles & NOTIFIER_ROLES)

    @staticmethod
    def may_see_kind(roles: frozenset[str]) -> bool:
        """Whether the caller may learn what the news is (a death needs `deceased_records`)."""
        return DECEASED_ROLE in roles

    def move_to(self, state: NotificationState, at: datetime) -> None:
        """Take the next step (open → in-progress → done); nothing else, and never back."""
        if _NEXT.get(self.state) is not state:
            raise NotificationStepRefused(
                f"A task that is {self.state.value} cannot become {state.value}; "
                "it goes open → in-progress → done.")
        self.state = state
        self.changed_at = at
        self.version += 1
        self.events.append(NotificationMoved(self.snapshot()))

    def snapshot(self) -> FamilyNotificationTask:
        """A copy without events, safe to carry inside an event."""
        return FamilyNotificationTask(
            id=self.id, candidate_id=self.candidate_id, kind=self.kind, case_id=self.case_id,
            record_ref=self.record_ref, organisation_id=self.organisation_id,
            state=self.state, opened_at=self.opened_at, changed_at=self.changed_at,
            version=self.version, involves_minor=self.involves_minor)


@dataclass(frozen=True)
class EnquirerRecord:
    """A record of the confirmed pair, as far as notification needs it (no personal data)."""

    ref: str
    kind: str  # intake's kind: missing-person | found-person | remains
    case_id: UUID
    organisation_id: str


def enquirers(records: list[EnquirerRecord]) -> list[EnquirerRecord]:
    """Whose family is to be told: the missing-person reports' enquirers; without a report in
    the pair, the found person's own case (a person who was looking for their family)."""
    reports = [r for r in records if r.kind == "missing-person"]
    return reports or [r for r in records if r.kind == "found-person"]
