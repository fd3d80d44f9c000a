"""Repositories: load and store intake's aggregates, sealing personal fields on the way in and
opening them on the way out. They never commit (the unit of work does)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Session

from haven_shared.crypto import SubjectKeyring, new_subject_key_id
from haven_shared.events.model import SealedPersonalData
from intake.adapters import mapping as m
from intake.adapters.orm import CaseRow, IdempotencyRow, PersonRecordRow
from intake.domain.case import Case, CaseKind, CaseStatus, RiskLevel
from intake.domain.records import FoundPersonRecord, MissingPersonReport, UnidentifiedRemains

TracingRecord = MissingPersonReport | FoundPersonRecord | UnidentifiedRemains


class CaseRepository:
    """Cases of the intake database."""

    def __init__(self, session: Session, keyring: SubjectKeyring) -> None:
        self.session = session
        self.keyring = keyring

    def add(self, case: Case) -> SealedPersonalData:
        """Store a new case; returns the sealed person (for the case.opened event)."""
        sealed = self.keyring.seal(self.session, case.subject_key_id, m.person_to_dict(case.person))
        self.session.add(CaseRow(
            id=case.id, organisation_id=case.organisation_id, kind=case.kind,
            status=case.status, risk_level=case.risk_level, is_minor=case.is_minor,
            subject_key_id=case.subject_key_id, person_sealed=sealed.model_dump(),
            assignees=list(case.assignees), opened_by=case.opened_by, opened_at=case.opened_at,
            version=case.version))
        self.session.flush()
        return sealed

    def ownership(self, case_id: UUID) -> tuple[str, bool] | None:
        """(organisation, is_minor) of a case, without opening anything personal."""
        row = self.session.execute(
            sa.select(CaseRow.organisation_id, CaseRow.is_minor).where(CaseRow.id == case_id)
        ).first()
        return (row.organisation_id, row.is_minor) if row else None

    def get(self, case_id: UUID, *, for_update: bool = False) -> Case | None:
        """The case, or None. `for_update` locks its row (serialises writers of one case)."""
        stmt = sa.select(CaseRow).where(CaseRow.id == case_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.execute(stmt).scalars().first()
        if row is None:
            return None
        person = m.person_from_dict(self.keyring.open(
            self.session, SealedPersonalData.model_validate(row.person_sealed)))
        return Case(id=row.id, organisation_id=row.organisation_id, kind=CaseKind(row.kind),
                    risk_level=RiskLevel(row.risk_level), person=person,
                    subject_key_id=row.subject_key_id, opened_by=row.opened_by,
                    opened_at=row.opened_at, is_minor=row.is_minor,
                    status=CaseStatus(row.status), assignees=list(row.assignees),
                    version=row.version)

    def list_for(self, organisation_id: str, *, include_minors: bool, status: str | None,
                 limit: int, offset: int) -> list[CaseRow]:
        """Rows of an organisation's cases, newest first (workflow facts only, nothing opened)."""
        stmt = sa.select(CaseRow).where(CaseRow.organisation_id == organisation_id)
        if not include_minors:
            stmt = stmt.where(CaseRow.is_minor.is_(False))  # type: ignore[attr-defined]
        if status is not None:
            stmt = stmt.where(CaseRow.status == status)
        stmt = stmt.order_by(CaseRow.opened_at.desc(), CaseRow.id).limit(limit).offset(offset)  # type: ignore[attr-defined]
        return list(self.session.execute(stmt).scalars())

    def save(self, case: Case) -> None:
        """Write back the workflow state of a loaded case."""
        row = self.session.get(CaseRow, case.id)
        if row is None:
            raise LookupError("case vanished")
        row.status, row.risk_level, row.is_minor = case.status, case.risk_level, case.is_minor
        row.assignees, row.version = list(case.assignees), case.version
        row.updated_at = datetime.now(UTC)
        self.session.add(row)
        self.session.flush()


def _kind(record: TracingRecord) -> str:
    if isinstance(record, MissingPersonReport):
        return "missing-person"
    return "found-person" if isinstance(record, FoundPersonRecord) else "unidentified-remains"


def _facts(record: TracingRecord) -> tuple[str, list[str], dict[str, Any]]:
    """(sex, sharing scope, details to seal) of a record."""
    if isinstance(record, MissingPersonReport):
        return record.sex, list(record.sharing_scope), m.missing_person_details(record)
    if isinstance(record, FoundPersonRecord):
        return record.sex, list(record.sharing_scope), m.found_person_details(record)
    return record.estimated_sex, [], m.remains_details(record)


def _enquirer(record: MissingPersonReport) -> dict[str, Any]:
    e = record.enquirer
    return {"name": e.name, "relationship": e.relationship, "contact": e.contact}


class RecordRepository:
    """Missing-person reports, found-person records and unidentified remains."""

    def __init__(self, session: Session, keyring: SubjectKeyring) -> None:
        self.session = session
        self.keyring = keyring

    def add(self, case_id: UUID, record: TracingRecord, *, is_minor: bool, recorded_by: str
            ) -> SealedPersonalData:
        """Store a record under a new subject key; returns its sealed details (for events)."""
        key_id = new_subject_key_id()
        enquirer_key = enquirer_sealed = None
        kind = _kind(record)
        sex, scope, details = _facts(record)
        if isinstance(record, MissingPersonReport):
            enquirer_key = new_subject_key_id()
            enquirer_sealed = self.keyring.seal(self.session, enquirer_key,
                                                _enquirer(record)).model_dump()
        sealed = self.keyring.seal(self.session, key_id, details)
        self.session.add(PersonRecordRow(
            id=record.id, case_id=case_id, kind=kind, sex=sex, is_minor=is_minor,
            sharing_scope=scope, subject_key_id=key_id, details_sealed=sealed.model_dump(),
            enquirer_key_id=enquirer_key, enquirer_sealed=enquirer_sealed,
            recorded_by=recorded_by))
        self.session.flush()
        return sealed

    def replace(self, case_id: UUID, record: TracingRecord, *, is_minor: bool
                ) -> SealedPersonalData | None:
        """Overwrite a stored record (same subject keys); None when it is not on the case."""
        row = self.session.get(PersonRecordRow, record.id, with_for_update=True)
        if row is None or row.case_id != case_id or row.kind != _kind(record):
            return None
        sex, scope, details = _facts(record)
        sealed = self.keyring.seal(self.session, row.subject_key_id, details)
        row.sex, row.is_minor, row.sharing_scope = sex, is_minor, scope
        row.details_sealed = sealed.model_dump()
        if isinstance(record, MissingPersonReport) and row.enquirer_key_id:
            row.enquirer_sealed = self.keyring.seal(
                self.session, row.enquirer_key_id, _enquirer(record)).model_dump()
        self.session.add(row)
        self.session.flush()
        return sealed

    def get(self, case_id: UUID, record_id: UUID, kind: str) -> TracingRecord | None:
        """The record of `kind` on the case, opened; None when absent."""
        row = self.session.get(PersonRecordRow, record_id)
        if row is None or row.case_id != case_id or row.kind != kind:
            return None
        details = self._open(row.details_sealed)
        if kind == "missing-person":
            enquirer = self._open(row.enquirer_sealed or {})
            return m.missing_person_from(row.id, row.sex, row.sharing_scope, details, enquirer)
        if kind == "found-person":
            return m.found_person_from(row.id, row.sex, row.sharing_scope, details)
        return m.remains_from(row.id, row.sex, details)

    def list_for_case(self, case_id: UUID) -> list[tuple[UUID, str, bool]]:
        """(id, kind, is_minor) of the case's records, oldest first."""
        rows = self.session.execute(
            sa.select(PersonRecordRow.id, PersonRecordRow.kind, PersonRecordRow.is_minor)
            .where(PersonRecordRow.case_id == case_id).order_by(PersonRecordRow.recorded_at))
        return [(r.id, r.kind, r.is_minor) for r in rows]

    def _open(self, sealed: dict[str, Any]) -> dict[str, Any]:
        return self.keyring.open(self.session, SealedPersonalData.model_validate(sealed))


class IdempotencyRepository:
    """Requests already carried out under an idempotency key."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, scope_key: str) -> IdempotencyRow | None:
        return self.session.get(IdempotencyRow, scope_key)

    def add(self, scope_key: str, fingerprint: str, case_id: UUID, resource_id: UUID) -> None:
        self.session.add(IdempotencyRow(scope_key=scope_key, fingerprint=fingerprint,
                                        case_id=case_id, resource_id=resource_id))
        self.session.flush()
