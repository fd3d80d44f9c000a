"""Family-notification tasks: their table and repository (never commits)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from registry.adapters.person_tables import PersonEntryRow
from registry.domain.family_notification import (
    EnquirerRecord,
    FamilyNotificationTask,
    NotificationKind,
    NotificationState,
)


class FamilyNotificationTaskRow(SQLModel, table=True):
    """One task; a confirmation opens at most one per enquirer record (`candidate_record`)."""

    __tablename__ = "family_notification_task"
    __table_args__ = (sa.UniqueConstraint("candidate_id", "record_ref",
                                          name="uq_family_notification_candidate_record"),)

    id: uuid.UUID = Field(primary_key=True)
    candidate_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=20)
    case_id: uuid.UUID
    record_ref: str = Field(max_length=200)
    organisation_id: str = Field(max_length=100, index=True)
    state: str = Field(max_length=20)
    opened_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    involves_minor: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    version: int = 1


NOTIFICATION_TABLES = [FamilyNotificationTaskRow.__table__]  # type: ignore[attr-defined]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class FamilyNotificationRepository:
    """Tasks of family notification, and the routing facts of the records they concern."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, task_id: uuid.UUID, *, for_update: bool = False
            ) -> FamilyNotificationTask | None:
        """The task, or None; `for_update` locks it until the transaction ends."""
        stmt = select(FamilyNotificationTaskRow).where(FamilyNotificationTaskRow.id == task_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        return _task(row) if row else None

    def of_organisation(self, organisation_id: str, state: NotificationState | None = None,
                        limit: int = 100) -> list[FamilyNotificationTask]:
        """The organisation's tasks, oldest first."""
        stmt = select(FamilyNotificationTaskRow).where(
            FamilyNotificationTaskRow.organisation_id == organisation_id)
        if state is not None:
            stmt = stmt.where(FamilyNotificationTaskRow.state == state.value)
        stmt = stmt.order_by(col(FamilyNotificationTaskRow.opened_at),
                             col(FamilyNotificationTaskRow.id)).limit(limit)
        return [_task(r) for r in self.session.exec(stmt)]

    def of_candidate(self, candidate_id: uuid.UUID) -> list[FamilyNotificationTask]:
        """The tasks a confirmation opened."""
        stmt = select(FamilyNotificationTaskRow).where(
            FamilyNotificationTaskRow.candidate_id == candidate_id)
        return [_task(r) for r in self.session.exec(stmt)]

    def save(self, task: FamilyNotificationTask) -> None:
        """Insert or update the task's row."""
        row = self.session.get(FamilyNotificationTaskRow, task.id)
        values = {"id": task.id, "candidate_id": task.candidate_id, "kind": task.kind.value,
                  "case_id": task.case_id, "record_ref": task.record_ref,
                  "organisation_id": task.organisation_id, "state": task.state.value,
                  "opened_at": task.opened_at, "changed_at": task.changed_at,
                  "version": task.version, "involves_minor": task.involves_minor}
        if row is None:
            row = FamilyNotificationTaskRow(**values)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        self.session.add(row)
        self.session.flush()

    def records(self, refs: list[str]) -> list[EnquirerRecord]:
        """Kind, case and organisation of the person index entries `refs` (nothing sealed is
        opened: a task needs none of the person's fields)."""
        stmt = select(PersonEntryRow.ref, PersonEntryRow.kind, PersonEntryRow.case_id,
                      PersonEntryRow.organisation_id).where(col(PersonEntryRow.ref).in_(refs))
        return [EnquirerRecord(ref=r.ref, kind=r.kind, case_id=r.case_id,
                               organisation_id=r.organisation_id)
                for r in self.session.exec(stmt)]


def _task(row: FamilyNotificationTaskRow) -> FamilyNotificationTask:
    return FamilyNotificationTask(
        id=row.id, candidate_id=row.candidate_id, kind=NotificationKind(row.kind),
        case_id=row.case_id, record_ref=row.record_ref, organisation_id=row.organisation_id,
        state=NotificationState(row.state), opened_at=_aware(row.opened_at),
        changed_at=_aware(row.changed_at), version=row.version,
        involves_minor=row.involves_minor)
