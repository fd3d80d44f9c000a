"""Repositories of screenings, needs assessments and consent records. Free text is sealed
with the case's subject key; they never commit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Session

from haven_shared.crypto import SubjectKeyring
from haven_shared.events.model import SealedPersonalData
from intake.adapters.orm import ConsentRow, NeedsAssessmentRow, ScreeningRow
from intake.domain.screening import Decision, Outcome, Stage, TraffickingScreening
from intake.domain.support import ConsentRecord, Need, NeedsAssessment


class _Sealing:
    def __init__(self, session: Session, keyring: SubjectKeyring) -> None:
        self.session = session
        self.keyring = keyring

    def seal(self, key_id: str, text: str | None) -> dict[str, Any] | None:
        if text is None:
            return None
        return self.keyring.seal(self.session, key_id, {"text": text}).model_dump()

    def open(self, sealed: dict[str, Any] | None) -> str | None:
        if sealed is None:
            return None
        text: str = self.keyring.open(self.session,
                                      SealedPersonalData.model_validate(sealed))["text"]
        return text


class ScreeningRepository(_Sealing):
    """Trafficking screenings."""

    def save(self, s: TraffickingScreening, key_id: str) -> None:
        """Insert or update the screening (its decisions sealed under `key_id`)."""
        row = self.session.get(ScreeningRow, s.id) or ScreeningRow(
            id=s.id, case_id=s.case_id, indicators=sorted(s.indicators), result=s.result,
            notes_sealed=self.seal(key_id, s.notes), decisions=[], screened_by=s.screened_by,
            screened_at=s.screened_at)
        stored = list(row.decisions)
        decisions = []
        for i, d in enumerate(s.decisions):
            reasons = stored[i]["reasons_sealed"] if i < len(stored) else \
                self.seal(key_id, d.reasons)
            decisions.append({"stage": d.stage.value, "outcome": d.outcome.value,
                              "decision_date": d.decision_date.isoformat(),
                              "decided_by": d.decided_by, "decided_at": d.decided_at.isoformat(),
                              "superseded": d.superseded, "reasons_sealed": reasons})
        row.decisions = decisions
        row.reconsideration_requested = (s.reconsideration_requested.value
                                         if s.reconsideration_requested else None)
        self.session.add(row)
        self.session.flush()

    def ids_for_case(self, case_id: UUID) -> list[UUID]:
        """The case's screenings, oldest first."""
        return list(self.session.execute(
            sa.select(ScreeningRow.id).where(ScreeningRow.case_id == case_id)
            .order_by(ScreeningRow.screened_at)).scalars())

    def get(self, case_id: UUID, screening_id: UUID, *, for_update: bool = False
            ) -> TraffickingScreening | None:
        stmt = sa.select(ScreeningRow).where(ScreeningRow.id == screening_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.execute(stmt).scalars().first()
        if row is None or row.case_id != case_id:
            return None
        decisions = [Decision(Stage(d["stage"]), Outcome(d["outcome"]),
                              date.fromisoformat(d["decision_date"]),
                              self.open(d["reasons_sealed"]) or "", d["decided_by"],
                              datetime.fromisoformat(d["decided_at"]), d["superseded"])
                     for d in row.decisions]
        return TraffickingScreening(
            id=row.id, case_id=row.case_id, indicators=frozenset(row.indicators),
            notes=self.open(row.notes_sealed), screened_by=row.screened_by,
            screened_at=row.screened_at, decisions=decisions,
            reconsideration_requested=(Stage(row.reconsideration_requested)
                                       if row.reconsideration_requested else None))


class NeedsRepository(_Sealing):
    """Needs assessments."""

    def add(self, a: NeedsAssessment, key_id: str) -> None:
        self.session.add(NeedsAssessmentRow(
            id=a.id, case_id=a.case_id, needs=[{"kind": n.kind, "urgency": n.urgency}
                                               for n in a.needs],
            languages=list(a.languages), staff_gender=a.staff_gender,
            women_only_shelter=a.women_only_shelter, notes_sealed=self.seal(key_id, a.notes),
            assessed_by=a.assessed_by, assessed_at=a.assessed_at))
        self.session.flush()

    def ids_for_case(self, case_id: UUID) -> list[UUID]:
        """The case's needs assessments, oldest first."""
        return list(self.session.execute(
            sa.select(NeedsAssessmentRow.id).where(NeedsAssessmentRow.case_id == case_id)
            .order_by(NeedsAssessmentRow.assessed_at)).scalars())

    def get(self, case_id: UUID, assessment_id: UUID) -> NeedsAssessment | None:
        row = self.session.get(NeedsAssessmentRow, assessment_id)
        if row is None or row.case_id != case_id:
            return None
        return NeedsAssessment(
            id=row.id, case_id=row.case_id,
            needs=tuple(Need(n["kind"], n["urgency"]) for n in row.needs),
            languages=tuple(row.languages), staff_gender=row.staff_gender,
            women_only_shelter=row.women_only_shelter, notes=self.open(row.notes_sealed),
            assessed_by=row.assessed_by, assessed_at=row.assessed_at)


class ConsentRepository(_Sealing):
    """Consent records."""

    def save(self, c: ConsentRecord, key_id: str) -> None:
        row = self.session.get(ConsentRow, c.id) or ConsentRow(
            id=c.id, case_id=c.case_id, purpose=c.purpose, partner_kinds=list(c.partner_kinds),
            given_by=c.given_by, override_reason_sealed=self.seal(key_id, c.override_reason),
            recorded_by=c.recorded_by, recorded_at=c.recorded_at)
        row.withdrawn_at, row.withdrawn_by = c.withdrawn_at, c.withdrawn_by
        self.session.add(row)
        self.session.flush()

    def _domain(self, row: ConsentRow) -> ConsentRecord:
        return ConsentRecord(
            id=row.id, case_id=row.case_id, purpose=row.purpose,
            partner_kinds=tuple(row.partner_kinds), given_by=row.given_by,
            recorded_by=row.recorded_by, recorded_at=row.recorded_at,
            override_reason=self.open(row.override_reason_sealed),
            withdrawn_at=row.withdrawn_at, withdrawn_by=row.withdrawn_by)

    def get(self, case_id: UUID, consent_id: UUID) -> ConsentRecord | None:
        row = self.session.get(ConsentRow, consent_id)
        return None if row is None or row.case_id != case_id else self._domain(row)

    def list_for_case(self, case_id: UUID) -> list[ConsentRecord]:
        rows = self.session.execute(sa.select(ConsentRow).where(ConsentRow.case_id == case_id)
                                    .order_by(ConsentRow.recorded_at)).scalars()
        return [self._domain(r) for r in rows]
