"""Use cases of needs assessments and consent records; each emits its event."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from haven_shared.events.intake import AssessedNeed, ConsentGiven, ConsentWithdrawn, NeedsAssessed
from intake.domain.access import CHILD_PROTECTION, Actor
from intake.domain.errors import RecordNotFound
from intake.domain.support import ConsentRecord, NeedsAssessment
from intake.service_layer.audit import audited
from intake.service_layer.common import (
    IdempotencyToken,
    UowFactory,
    remember,
    replayed,
    retry_once_on_race,
    visible_case,
)

T = TypeVar("T")


def assess_needs(uows: UowFactory, actor: Actor, case_id: UUID, draft: NeedsAssessment,
                 now: datetime, token: IdempotencyToken | None = None,
                 purpose: str | None = None) -> NeedsAssessment:
    """Record a needs assessment; emits `needs.assessed` for referral."""

    def run() -> NeedsAssessment:
        with audited(uows, actor, "needs-assessment.create", case_id, purpose) as uow:
            earlier = replayed(uow, actor, token)
            if earlier is not None:
                visible_case(uow, actor, earlier[0])
                found = _need(uow.needs.get(earlier[0], earlier[1]))
                uow.commit()
                return found
            case = visible_case(uow, actor, case_id)
            assessment = replace(draft, id=uuid.uuid4(), case_id=case.id,
                                 assessed_by=actor.username, assessed_at=now
                                 ).validated(case.is_minor)
            uow.needs.add(assessment, case.subject_key_id)
            remember(uow, actor, token, case.id, assessment.id)
            uow.emit(NeedsAssessed(
                case_id=case.id, organisation_id=case.organisation_id,
                assessment_id=assessment.id, assessed_at=now, is_minor=case.is_minor,
                needs=[AssessedNeed(need=n.kind, urgency=n.urgency) for n in assessment.needs],
                languages=list(assessment.languages), staff_gender=assessment.staff_gender,
                women_only_shelter=assessment.women_only_shelter))
            uow.commit()
            return assessment

    return retry_once_on_race(run)


def _need(found: T | None) -> T:
    if found is None:
        raise RecordNotFound("No such record.")
    return found


def get_needs_assessment(uows: UowFactory, actor: Actor, case_id: UUID, assessment_id: UUID,
                         purpose: str) -> NeedsAssessment:
    """A needs assessment of a case the actor may see."""
    with audited(uows, actor, "needs-assessment.read", case_id, purpose) as uow:
        visible_case(uow, actor, case_id)
        found = _need(uow.needs.get(case_id, assessment_id))
        uow.commit()
        return found


def list_needs_assessments(uows: UowFactory, actor: Actor, case_id: UUID, purpose: str
                           ) -> list[NeedsAssessment]:
    """The case's needs assessments, oldest first."""
    with audited(uows, actor, "needs-assessment.list", case_id, purpose) as uow:
        visible_case(uow, actor, case_id)
        found = [_need(uow.needs.get(case_id, i)) for i in uow.needs.ids_for_case(case_id)]
        uow.commit()
        return found


def record_consent(uows: UowFactory, actor: Actor, case_id: UUID, draft: ConsentRecord,
                   now: datetime, token: IdempotencyToken | None = None,
                   purpose: str | None = None) -> ConsentRecord:
    """Record consent for a purpose (or a child-protection override); emits `consent.given`.
    The decision is audited as `consent.give` or `consent.override`."""
    action = "consent.override" if draft.override else "consent.give"

    def run() -> ConsentRecord:
        with audited(uows, actor, action, case_id, purpose) as uow:
            earlier = replayed(uow, actor, token)
            if earlier is not None:
                visible_case(uow, actor, earlier[0])
                found = _need(uow.consents.get(earlier[0], earlier[1]))
                uow.commit()
                return found
            case = visible_case(uow, actor, case_id)
            consent = replace(draft, id=uuid.uuid4(), case_id=case.id,
                              recorded_by=actor.username, recorded_at=now)
            consent.validate(case.is_minor, actor.has(CHILD_PROTECTION))
            uow.consents.save(consent, case.subject_key_id)
            remember(uow, actor, token, case.id, consent.id)
            uow.emit(ConsentGiven(case_id=case.id, organisation_id=case.organisation_id,
                                  consent_id=consent.id, purpose=consent.purpose,
                                  partner_kinds=list(consent.partner_kinds), at=now,
                                  override=consent.override))
            uow.commit()
            return consent

    return retry_once_on_race(run)


def withdraw_consent(uows: UowFactory, actor: Actor, case_id: UUID, consent_id: UUID,
                     now: datetime, purpose: str | None = None) -> ConsentRecord:
    """Withdraw a consent; emits `consent.withdrawn`."""
    with audited(uows, actor, "consent.withdraw", case_id, purpose) as uow:
        case = visible_case(uow, actor, case_id, for_update=True)
        consent = _need(uow.consents.get(case_id, consent_id))
        consent.withdraw(actor.username, now)
        uow.consents.save(consent, case.subject_key_id)
        uow.emit(ConsentWithdrawn(case_id=case.id, organisation_id=case.organisation_id,
                                  consent_id=consent.id, purpose=consent.purpose,
                                  partner_kinds=list(consent.partner_kinds), at=now))
        uow.commit()
        return consent


def list_consents(uows: UowFactory, actor: Actor, case_id: UUID, purpose: str
                  ) -> list[ConsentRecord]:
    """The case's consent records, oldest first."""
    with audited(uows, actor, "consent.list", case_id, purpose) as uow:
        visible_case(uow, actor, case_id)
        found = uow.consents.list_for_case(case_id)
        uow.commit()
        return found
