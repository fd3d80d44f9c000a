"""Routes of the referring organisation: request, read and cancel referrals."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from referral.api.convert import to_out, to_request
from referral.api.dependencies import Handlers, IdempotencyKey, Now, Referrer, idempotency
from referral.api.schemas import (
    AwaitingConsentOut,
    CaseReferralsOut,
    ReferralCreate,
    ReferralOut,
)
from referral.service_layer import referrals as uc

router = APIRouter(prefix="/referrals", tags=["referrals"])
cases = APIRouter(prefix="/cases", tags=["referrals"])


@router.post("", status_code=201, response_model=ReferralOut,
             summary="Refer one need of a case: route, offer, explain")
def create_referral(body: ReferralCreate, actor: Referrer, deps: Handlers, now: Now,
                    key: IdempotencyKey = None) -> ReferralOut:
    """Route the need among the directory's providers and offer it; an unmet need is an alert.

    Repeating a request with the same `Idempotency-Key` returns the first referral.
    """
    referral, context = uc.request_referral(deps, to_request(body, actor.org, actor.username),
                                            actor, now, idempotency(key, body))
    return to_out(referral, context)


@router.get("/{referral_id}", response_model=ReferralOut, summary="A referral of your organisation")
def read_referral(referral_id: uuid.UUID, actor: Referrer, deps: Handlers) -> ReferralOut:
    """State, offers, the routing explanation and any alert."""
    return to_out(*uc.get_referral(deps, referral_id, actor))


@router.post("/{referral_id}/cancel", response_model=ReferralOut,
             summary="Withdraw a referral; partners are told to discard what they received")
def cancel(referral_id: uuid.UUID, actor: Referrer, deps: Handlers, now: Now) -> ReferralOut:
    """Cancel a referral that is requested or accepted."""
    return to_out(*uc.cancel_referral(deps, referral_id, actor, now))


@cases.get("/{case_id}/referrals", response_model=CaseReferralsOut,
           summary="A case's referrals and the needs awaiting consent")
def case_referrals(case_id: uuid.UUID, actor: Referrer, deps: Handlers) -> CaseReferralsOut:
    """Referrals by your organisation for this case (none: an empty list, not 404)."""
    found, waiting = uc.case_referrals(deps, case_id, actor)
    return CaseReferralsOut(
        referrals=[to_out(r, c) for r, c in found],
        awaiting_consent=[AwaitingConsentOut(need=n.kind.value, urgency=n.urgency.value)  # type: ignore[arg-type]
                          for n in waiting])
