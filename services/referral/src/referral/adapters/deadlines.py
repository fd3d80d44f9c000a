"""Repository of legal deadlines and of the alerts already sent; never commits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from referral.adapters.orm import DeadlineAlertRow, DeadlineRow
from referral.domain.deadlines import Deadline, DeadlineKind


def _aware(t: datetime) -> datetime:
    # SQLite returns naive datetimes; every time Haven stores is UTC.
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _domain(row: DeadlineRow) -> tuple[Deadline, str]:
    return (Deadline(row.id, str(row.case_id), DeadlineKind(row.kind), _aware(row.due),
                     row.caseworker), row.organisation_id)


class DeadlineRepository:
    """Deadlines by id (set again when recomputed) and the keys of alerts published."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, deadline: Deadline, organisation_id: str) -> None:
        """Record or move a deadline (its id names what it is, so a replay is harmless)."""
        row = self.session.get(DeadlineRow, deadline.deadline_id)
        if row is None:
            row = DeadlineRow(id=deadline.deadline_id, case_id=uuid.UUID(deadline.case_id),
                              organisation_id=organisation_id, kind=deadline.kind.value,
                              due=deadline.due, caseworker=deadline.caseworker)
        else:
            row.due, row.caseworker = deadline.due, deadline.caseworker
        self.session.add(row)

    def of_organisation(self, organisation_id: str, after: datetime
                        ) -> list[tuple[Deadline, str]]:
        """The organisation's deadlines due after `after`, soonest first."""
        rows = self.session.exec(select(DeadlineRow).where(
            DeadlineRow.organisation_id == organisation_id, DeadlineRow.due >= after
        ).order_by(col(DeadlineRow.due)))
        return [_domain(r) for r in rows]

    def all(self) -> list[tuple[Deadline, str]]:
        """Every deadline (with its organisation), for the alert tick."""
        return [_domain(r) for r in self.session.exec(select(DeadlineRow))]

    def sent(self) -> set[str]:
        return set(self.session.exec(select(DeadlineAlertRow.key)))

    def mark_sent(self, key: str, deadline_id: str) -> None:
        self.session.add(DeadlineAlertRow(key=key, deadline_id=deadline_id))
