"""The read model of referral and match outcomes on intake's cases."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Session

from intake.adapters.orm import CaseRow, MatchViewRow, PersonRecordRow, ReferralViewRow
from intake.domain.outcomes import MatchState, ReferralState


class OutcomeRepository:
    """Upserts and reads the outcome views; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def has_case(self, case_id: UUID) -> bool:
        return self.session.get(CaseRow, case_id) is not None

    def case_owner(self, case_id: UUID) -> str | None:
        """The organisation owning the case, or None when intake holds no such case."""
        row = self.session.get(CaseRow, case_id)
        return row.organisation_id if row else None

    def case_of_record(self, record_id: UUID) -> UUID | None:
        row = self.session.get(PersonRecordRow, record_id)
        return row.case_id if row else None

    def referral(self, referral_id: UUID) -> ReferralState | None:
        row = self.session.get(ReferralViewRow, referral_id)
        return ReferralState(**row.model_dump()) if row else None

    def save_referral(self, state: ReferralState) -> None:
        row = self.session.get(ReferralViewRow, state.referral_id)
        if row is None:
            self.session.add(ReferralViewRow(**state.__dict__))
        else:
            for key, value in state.__dict__.items():
                setattr(row, key, value)
        self.session.flush()

    def save_match(self, state: MatchState) -> None:
        row = self.session.get(MatchViewRow, (state.candidate_id, state.record_id))
        if row is None:
            self.session.add(MatchViewRow(**state.__dict__))
        else:
            for key, value in state.__dict__.items():
                setattr(row, key, value)
        self.session.flush()

    def for_case(self, case_id: UUID) -> tuple[list[ReferralState], list[MatchState]]:
        refs = self.session.execute(sa.select(ReferralViewRow).where(
            ReferralViewRow.case_id == case_id).order_by(ReferralViewRow.updated_at)).scalars()
        matches = self.session.execute(sa.select(MatchViewRow).where(
            MatchViewRow.case_id == case_id).order_by(MatchViewRow.updated_at)).scalars()
        return ([ReferralState(**r.model_dump()) for r in refs],
                [MatchState(**m.model_dump()) for m in matches])
