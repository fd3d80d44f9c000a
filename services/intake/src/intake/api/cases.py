"""Routes for cases: open, read, change status, assign."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from intake.api import convert
from intake.api.dependencies import (
    CurrentActor,
    IdempotencyKey,
    Now,
    Uows,
    WritePurpose,
    idempotency,
    read_purpose,
)
from intake.api.schemas import (
    Assignment,
    CaseCreate,
    CasePublic,
    CaseSummaryPublic,
    StatusChange,
)
from intake.api.support_schemas import (
    CaseOutcomesPublic,
    FamilyNotificationPublic,
    MatchStatePublic,
    ReferralStatePublic,
)
from intake.domain.case import CaseStatus
from intake.service_layer import cases as handlers
from intake.service_layer import outcomes as outcome_handlers

router = APIRouter(prefix="/cases", tags=["cases"])
CaseRead = Annotated[str, Depends(read_purpose("case.read"))]
OutcomesRead = Annotated[str, Depends(read_purpose("case-outcomes.read"))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CasePublic)
def open_case(body: CaseCreate, request: Request, response: Response, actor: CurrentActor,
              uows: Uows, now: Now, purpose: WritePurpose, idempotency_key: IdempotencyKey = None
              ) -> CasePublic:
    """Open a case for a person in need, owned by the caller's organisation."""
    cmd = handlers.OpenCase(kind=body.kind, risk_level=body.risk_level,
                            person=convert.person(body.person), minor_declared=body.is_minor)
    case = handlers.open_case(uows, actor, cmd, now, idempotency(request, idempotency_key, body),
                              purpose)
    response.headers["Location"] = f"/cases/{case.id}"
    return convert.case_public(case)


@router.get("", response_model=list[CaseSummaryPublic])
def list_cases(actor: CurrentActor, uows: Uows, purpose: WritePurpose,
               status: CaseStatus | None = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> list[CaseSummaryPublic]:
    """Cases of the caller's organisation (minors' only with child protection), newest first."""
    return [CaseSummaryPublic(**asdict(c))
            for c in handlers.list_cases(uows, actor, status, limit, offset, purpose)]


@router.get("/{case_id}", response_model=CasePublic)
def get_case(case_id: UUID, actor: CurrentActor, uows: Uows, purpose: CaseRead) -> CasePublic:
    """A case of the caller's organisation, with its records (needs `X-Purpose-Of-Use`)."""
    case, records = handlers.get_case(uows, actor, case_id, purpose)
    return convert.case_public(case, records)


@router.post("/{case_id}/status", response_model=CasePublic)
def change_status(case_id: UUID, body: StatusChange, actor: CurrentActor, uows: Uows,
                  now: Now, purpose: WritePurpose) -> CasePublic:
    """Move the case along open → assessment → support plan → services → closed/reopened,
    and/or re-assess its risk level."""
    return convert.case_public(handlers.change_status(uows, actor, case_id, body.status, now,
                                                      body.risk_level, purpose))


@router.post("/{case_id}/assignees", response_model=CasePublic)
def assign(case_id: UUID, body: Assignment, actor: CurrentActor, uows: Uows,
           purpose: WritePurpose) -> CasePublic:
    """Assign a caseworker to the case."""
    return convert.case_public(handlers.assign(uows, actor, case_id, body.username, purpose))


@router.get("/{case_id}/outcomes", response_model=CaseOutcomesPublic)
def case_outcomes(case_id: UUID, actor: CurrentActor, uows: Uows, purpose: OutcomesRead
                  ) -> CaseOutcomesPublic:
    """The states of the case's referrals and the matches proposed for its records (needs
    `X-Purpose-Of-Use`)."""
    referrals, matches = outcome_handlers.case_outcomes(uows, actor, case_id, purpose)
    tasks = [m for m in matches if m.other_kind == outcome_handlers.FAMILY_NOTIFICATION]
    return CaseOutcomesPublic(
        case_id=case_id,
        referrals=[ReferralStatePublic(**asdict(r)) for r in referrals],
        matches=[MatchStatePublic(**asdict(m)) for m in matches if m not in tasks],
        family_notifications=[FamilyNotificationPublic(task_id=t.candidate_id,
                                                       record_id=t.record_id, state=t.state,
                                                       updated_at=t.updated_at)
                              for t in tasks])
