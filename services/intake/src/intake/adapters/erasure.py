"""Which subject keys an erasure destroys: every key a case or a record seals with."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Session

from intake.adapters.orm import CaseRow, PersonRecordRow


@dataclass(frozen=True)
class ErasureScope:
    """The keys of the data subjects named by one reference, and the case they belong to."""

    case_id: UUID
    organisation_id: str
    case_subject: bool
    key_ids: list[str] = field(default_factory=list)
    record_ids: list[UUID] = field(default_factory=list)


class ErasureRepository:
    """Finds the keys to destroy; locks the case row so no write of the case interleaves."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def scope_of(self, subject_ref: UUID) -> ErasureScope | None:
        """A case id names every data subject of the case (the person it is about, each
        record's subject and each enquirer); a record id names that record's subject only.
        None when the reference is unknown."""
        case = self._case(subject_ref)
        if case is not None:
            rows = self.session.execute(
                sa.select(
                    PersonRecordRow.id,
                    PersonRecordRow.subject_key_id,
                    PersonRecordRow.enquirer_key_id,
                )
                .where(PersonRecordRow.case_id == case.id)
                .order_by(PersonRecordRow.recorded_at, PersonRecordRow.id)
            ).all()
            keys = [case.subject_key_id]
            for r in rows:
                keys += [k for k in (r.subject_key_id, r.enquirer_key_id) if k]
            return ErasureScope(
                case.id, case.organisation_id, True, list(dict.fromkeys(keys)), [r.id for r in rows]
            )
        record = self.session.get(PersonRecordRow, subject_ref)
        if record is None:
            return None
        owner = self._case(record.case_id)
        if owner is None:
            return None
        return ErasureScope(
            owner.id, owner.organisation_id, False, [record.subject_key_id], [record.id]
        )

    def _case(self, case_id: UUID) -> CaseRow | None:
        return (
            self.session.execute(sa.select(CaseRow).where(CaseRow.id == case_id).with_for_update())
            .scalars()
            .first()
        )
