"""Repositories of consent as intake reported it, and of needs waiting for it; never commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import Session, select

from referral.adapters.mapping import need_from_json, need_to_json
from referral.adapters.orm import CaseConsentRow, PendingNeedRow
from referral.domain.assessment import CaseConsent
from referral.domain.routing import Need


class ConsentRepository:
    """Per case: the partner kinds consented to, and whether an override was recorded."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, case_id: uuid.UUID) -> CaseConsent:
        row = self.session.get(CaseConsentRow, case_id)
        if row is None:
            return CaseConsent()
        return CaseConsent(frozenset(row.partner_kinds), row.override)

    def put(self, case_id: uuid.UUID, organisation_id: str, consent: CaseConsent) -> None:
        row = self.session.get(CaseConsentRow, case_id) or CaseConsentRow(
            case_id=case_id, organisation_id=organisation_id, partner_kinds=[])
        row.partner_kinds = sorted(consent.partner_kinds)
        row.override = consent.override
        row.updated_at = datetime.now(UTC)
        self.session.add(row)


class PendingNeedRepository:
    """Assessed needs held back until consent covers them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def hold(self, referral_id: str, case_id: uuid.UUID, organisation_id: str, need: Need,
             is_minor: bool) -> None:
        key = uuid.UUID(referral_id)
        if self.session.get(PendingNeedRow, key) is None:
            self.session.add(PendingNeedRow(referral_id=key, case_id=case_id,
                                            organisation_id=organisation_id,
                                            need=need_to_json(need), is_minor=is_minor))

    def of_case(self, case_id: uuid.UUID) -> list[tuple[str, str, Need, bool]]:
        """(referral id, organisation, need, is_minor) of each need waiting, oldest first."""
        rows = self.session.exec(select(PendingNeedRow).where(
            PendingNeedRow.case_id == case_id).order_by(PendingNeedRow.created_at))  # type: ignore[arg-type]
        return [(str(r.referral_id), r.organisation_id, need_from_json(r.need), r.is_minor)
                for r in rows]

    def release(self, referral_id: str) -> None:
        row = self.session.get(PendingNeedRow, uuid.UUID(referral_id))
        if row is not None:
            self.session.delete(row)
