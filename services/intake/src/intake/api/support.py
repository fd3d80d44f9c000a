"""Routes for trafficking screening, needs assessments and consent records."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status

from intake.api import support_schemas as s
from intake.api.dependencies import (
    CurrentActor,
    IdempotencyKey,
    Now,
    Uows,
    WritePurpose,
    idempotency,
    read_purpose,
)
from intake.domain.screening import Outcome, Stage, TraffickingScreening
from intake.domain.support import ConsentRecord, Need, NeedsAssessment
from intake.service_layer import screening as screening_handlers
from intake.service_layer import support as support_handlers

router = APIRouter(prefix="/cases/{case_id}", tags=["survivor support"])
_NO_ID = UUID(int=0)
ScreeningList = Annotated[str, Depends(read_purpose("screening.list"))]
ScreeningRead = Annotated[str, Depends(read_purpose("screening.read"))]
NeedsList = Annotated[str, Depends(read_purpose("needs-assessment.list"))]
NeedsRead = Annotated[str, Depends(read_purpose("needs-assessment.read"))]
ConsentList = Annotated[str, Depends(read_purpose("consent.list"))]


def _screening(sc: TraffickingScreening) -> s.ScreeningPublic:
    return s.ScreeningPublic(
        id=sc.id, case_id=sc.case_id, indicators=sorted(sc.indicators),
        categories=sc.categories, result=sc.result, notes=sc.notes,
        screened_by=sc.screened_by, screened_at=sc.screened_at,
        decisions=[s.DecisionPublic(**asdict(d)) for d in sc.decisions],
        reconsideration_requested=sc.reconsideration_requested)


def _needs(a: NeedsAssessment) -> s.NeedsAssessmentPublic:
    return s.NeedsAssessmentPublic(
        id=a.id, case_id=a.case_id, needs=[s.NeedIn(kind=n.kind, urgency=n.urgency)  # type: ignore[arg-type]
                                           for n in a.needs],
        languages=list(a.languages), staff_gender=a.staff_gender,  # type: ignore[arg-type]
        women_only_shelter=a.women_only_shelter, notes=a.notes, assessed_by=a.assessed_by,
        assessed_at=a.assessed_at)


def _consent(c: ConsentRecord) -> s.ConsentPublic:
    return s.ConsentPublic.model_validate({**asdict(c), "override": c.override})


@router.post("/screenings", status_code=status.HTTP_201_CREATED,
             response_model=s.ScreeningPublic)
def screen(case_id: UUID, body: s.ScreeningIn, request: Request, actor: CurrentActor,
           uows: Uows, now: Now, purpose: WritePurpose, idempotency_key: IdempotencyKey = None
           ) -> s.ScreeningPublic:
    """Record trafficking indicators observed for the case's person."""
    return _screening(screening_handlers.screen(
        uows, actor, case_id, body.indicators, body.notes, now,
        idempotency(request, idempotency_key, body), purpose))


@router.get("/screenings", response_model=list[s.ScreeningPublic])
def list_screenings(case_id: UUID, actor: CurrentActor, uows: Uows, purpose: ScreeningList
                    ) -> list[s.ScreeningPublic]:
    """The case's screenings with their decisions (needs `X-Purpose-Of-Use`)."""
    return [_screening(x)
            for x in screening_handlers.list_screenings(uows, actor, case_id, purpose)]


@router.get("/screenings/{screening_id}", response_model=s.ScreeningPublic)
def read_screening(case_id: UUID, screening_id: UUID, actor: CurrentActor, uows: Uows,
                   purpose: ScreeningRead) -> s.ScreeningPublic:
    """A screening with its decisions (needs `X-Purpose-Of-Use`)."""
    return _screening(screening_handlers.get_screening(uows, actor, case_id, screening_id,
                                                       purpose))


@router.post("/screenings/{screening_id}/decisions", response_model=s.ScreeningPublic)
def decide(case_id: UUID, screening_id: UUID, body: s.DecisionIn, actor: CurrentActor,
           uows: Uows, now: Now, purpose: WritePurpose) -> s.ScreeningPublic:
    """Record a reasonable- or conclusive-grounds decision (supervisors)."""
    return _screening(screening_handlers.decide(
        uows, actor, case_id, screening_id, Stage(body.stage), Outcome(body.outcome),
        body.decision_date, body.reasons, now, purpose))


@router.post("/screenings/{screening_id}/reconsiderations", response_model=s.ScreeningPublic)
def reconsider(case_id: UUID, screening_id: UUID, body: s.ReconsiderationIn,
               actor: CurrentActor, uows: Uows, purpose: WritePurpose) -> s.ScreeningPublic:
    """Request reconsideration of a negative decision."""
    return _screening(screening_handlers.request_reconsideration(
        uows, actor, case_id, screening_id, Stage(body.stage), purpose))


@router.post("/needs-assessments", status_code=status.HTTP_201_CREATED,
             response_model=s.NeedsAssessmentPublic)
def assess_needs(case_id: UUID, body: s.NeedsAssessmentIn, request: Request,
                 actor: CurrentActor, uows: Uows, now: Now, purpose: WritePurpose,
                 idempotency_key: IdempotencyKey = None) -> s.NeedsAssessmentPublic:
    """Record the survivor's needs and preferences."""
    draft = NeedsAssessment(
        id=_NO_ID, case_id=case_id, needs=tuple(Need(n.kind, n.urgency) for n in body.needs),
        languages=tuple(body.languages), staff_gender=body.staff_gender,
        women_only_shelter=body.women_only_shelter, notes=body.notes, assessed_by="",
        assessed_at=now)
    return _needs(support_handlers.assess_needs(uows, actor, case_id, draft, now,
                                                idempotency(request, idempotency_key, body),
                                                purpose))


@router.get("/needs-assessments", response_model=list[s.NeedsAssessmentPublic])
def list_needs_assessments(case_id: UUID, actor: CurrentActor, uows: Uows, purpose: NeedsList
                           ) -> list[s.NeedsAssessmentPublic]:
    """The case's needs assessments (needs `X-Purpose-Of-Use`)."""
    return [_needs(a)
            for a in support_handlers.list_needs_assessments(uows, actor, case_id, purpose)]


@router.get("/needs-assessments/{assessment_id}", response_model=s.NeedsAssessmentPublic)
def read_needs_assessment(case_id: UUID, assessment_id: UUID, actor: CurrentActor, uows: Uows,
                          purpose: NeedsRead) -> s.NeedsAssessmentPublic:
    """A needs assessment of the case (needs `X-Purpose-Of-Use`)."""
    return _needs(support_handlers.get_needs_assessment(uows, actor, case_id, assessment_id,
                                                        purpose))


@router.post("/consents", status_code=status.HTTP_201_CREATED, response_model=s.ConsentPublic)
def record_consent(case_id: UUID, body: s.ConsentIn, request: Request, actor: CurrentActor,
                   uows: Uows, now: Now, purpose: WritePurpose,
                   idempotency_key: IdempotencyKey = None) -> s.ConsentPublic:
    """Record consent for a purpose, or a child-protection override with its reason."""
    draft = ConsentRecord(id=_NO_ID, case_id=case_id, purpose=body.purpose,
                          partner_kinds=tuple(body.partner_kinds), given_by=body.given_by,
                          recorded_by="", recorded_at=datetime.min,
                          override_reason=body.override_reason)
    return _consent(support_handlers.record_consent(uows, actor, case_id, draft, now,
                                                    idempotency(request, idempotency_key, body),
                                                    purpose))


@router.get("/consents", response_model=list[s.ConsentPublic])
def list_consents(case_id: UUID, actor: CurrentActor, uows: Uows, purpose: ConsentList
                  ) -> list[s.ConsentPublic]:
    """The case's consent records (needs `X-Purpose-Of-Use`)."""
    return [_consent(c) for c in support_handlers.list_consents(uows, actor, case_id, purpose)]


@router.post("/consents/{consent_id}/withdrawal", response_model=s.ConsentPublic)
def withdraw_consent(case_id: UUID, consent_id: UUID, actor: CurrentActor, uows: Uows, now: Now,
                     purpose: WritePurpose) -> s.ConsentPublic:
    """Withdraw a consent."""
    return _consent(support_handlers.withdraw_consent(uows, actor, case_id, consent_id, now,
                                                      purpose))
