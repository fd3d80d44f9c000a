"""REST routes of match review, for tracing officers and forensic reviewers.

Candidates involving unidentified remains are visible only with `deceased_records`; a hidden
candidate answers 404 like a missing one, so its existence does not leak. A match of living
people involving a child is also reviewed by child protection (`child_protection`, who see
only those candidates), and needs a tracing officer's and a child-protection holder's
confirmations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from haven_shared.audit import PURPOSE_HEADER, PurposeRequired, purpose_of_use
from haven_shared.auth import CurrentPrincipal, Principal
from haven_shared.errors import Forbidden
from registry.api.dependencies import Now, Uow, record_refusal
from registry.domain.match_review import MatchCandidate, MatchStatus, Reviewer
from registry.service_layer import audit
from registry.service_layer import match_review as uc

router = APIRouter(prefix="/matches", tags=["match review"])
REVIEW_ROLES = ("tracing_officer", "forensic_reviewer", "child_protection")


def _candidate_ref(request: Request) -> str:
    """The path's candidate id, if it is one (nothing submitted is kept otherwise)."""
    try:
        return str(UUID(str(request.path_params.get("candidate_id", ""))))
    except ValueError:
        return "list"


def reviewer(request: Request, principal: CurrentPrincipal) -> Principal:
    """The caller, if they review matches; a refusal is audited as `match.access`."""
    if not principal.has_any(REVIEW_ROLES):
        record_refusal(request, principal, "match.access", audit.CANDIDATE,
                       _candidate_ref(request))
        raise Forbidden("Your role does not allow this action.")
    return principal


ReviewerDep = Annotated[Principal, Depends(reviewer)]


def read_purpose(request: Request, principal: ReviewerDep,
                 header: Annotated[str | None, Header(alias=PURPOSE_HEADER)] = None) -> str:
    """The purpose of use a read of a candidate needs; without one, 400 (audited)."""
    try:
        return purpose_of_use(header)
    except PurposeRequired:
        record_refusal(request, principal, "match.read", audit.CANDIDATE,
                       _candidate_ref(request))
        raise


def list_purpose(header: Annotated[str | None, Header(alias=PURPOSE_HEADER)] = None
                 ) -> str | None:
    """The purpose of use of a listing, when given (checked like a read's)."""
    return None if header is None else purpose_of_use(header)


ReadPurpose = Annotated[str, Depends(read_purpose)]
ListPurpose = Annotated[str | None, Depends(list_purpose)]


def _reviewer(p: Principal) -> Reviewer:
    return Reviewer(subject=p.subject, org=p.org, roles=p.roles)


class EvidenceOut(BaseModel):
    """How one field contributed to the score."""

    field: str
    level: int
    label: str
    weight: float


class ReviewOut(BaseModel):
    """One decision on a candidate (the reviewer's organisation, not their identity)."""

    decision: str
    org: str
    at: datetime
    reason: str


class MatchCandidateOut(BaseModel):
    """A candidate pair with its score and per-field explanation."""

    id: UUID
    record_ref: str
    record_kind: str
    candidate_ref: str
    candidate_kind: str
    probability: float
    weight: float
    status: MatchStatus
    involves_minor: bool = Field(description="Either record is of a child: child protection "
                                             "confirms it too.")
    confirmations_needed: int
    explanation: list[EvidenceOut]
    reviews: list[ReviewOut]

    @classmethod
    def of(cls, c: MatchCandidate) -> MatchCandidateOut:
        return cls(id=c.id, record_ref=c.record_ref, record_kind=c.record_kind,
                   candidate_ref=c.candidate_ref, candidate_kind=c.candidate_kind,
                   probability=c.probability, weight=c.weight, status=c.status,
                   involves_minor=c.involves_minor,
                   confirmations_needed=c.confirmations_needed,
                   explanation=[EvidenceOut(**vars(e)) for e in c.evidence],
                   reviews=[ReviewOut(decision=r.decision, org=r.org, at=r.at,
                                      reason=r.reason) for r in c.reviews])


class RejectionIn(BaseModel):
    """Why the two records are not the same person."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


@router.get("", summary="Match candidates by score, best first",
            description="Each candidate listed is audited (`match.list`), with the "
                        f"`{PURPOSE_HEADER}` header's purpose when one is given.")
def list_candidates(
    principal: ReviewerDep, uow: Uow, purpose: ListPurpose,
    status: Annotated[MatchStatus | None, Query(
        description="Only this status; by default every candidate awaiting review")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MatchCandidateOut]:
    found = uc.list_candidates(uow, _reviewer(principal), status, limit, purpose)
    return [MatchCandidateOut.of(c) for c in found]


@router.get("/{candidate_id}", summary="One candidate with its explanation",
            description=f"Needs the `{PURPOSE_HEADER}` header (400 without it); the read is "
                        "audited with that purpose.")
def get_candidate(candidate_id: UUID, principal: ReviewerDep, uow: Uow, purpose: ReadPurpose
                  ) -> MatchCandidateOut:
    return MatchCandidateOut.of(uc.get_candidate(uow, candidate_id, _reviewer(principal),
                                                 purpose))


@router.post("/{candidate_id}/confirmation",
             summary="Confirm (remains need two different forensic reviewers)")
def confirm(candidate_id: UUID, principal: ReviewerDep, uow: Uow, now: Now
            ) -> MatchCandidateOut:
    return MatchCandidateOut.of(uc.confirm_match(uow, candidate_id, _reviewer(principal), now))


@router.post("/{candidate_id}/rejection", summary="Reject for good, with a reason")
def reject(candidate_id: UUID, body: RejectionIn, principal: ReviewerDep, uow: Uow, now: Now
           ) -> MatchCandidateOut:
    return MatchCandidateOut.of(
        uc.reject_match(uow, candidate_id, _reviewer(principal), body.reason, now))
