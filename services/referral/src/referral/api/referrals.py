"""Routes of the referring organisation: request, read and cancel referrals."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from referral.api.convert import to_out, to_request
from referral.api.dependencies import (
    Handlers,
    IdempotencyKey,
    Now,
    Referrer,
    WritePurpose,
    idempotency,
    read_purpose,
    referrer,
)
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
                    purpose: WritePurpose, key: IdempotencyKey = None) -> ReferralOut:
    """Route the need among the directory's providers and offer it; an unmet need is an alert.

    Repeating a request with the same `Idempotency-Key` returns the first referral.
    """
    referral, context = uc.request_referral(deps, to_request(body, actor.org, actor.username),
                                            actor, now, idempotency(key, body), purpose)
    return to_out(referral, context)


@router.get("/{referral_id}", response_model=ReferralOut, summary="A referral of your organisation")
def read_referral(referral_id: uuid.UUID, actor: Referrer, deps: Handlers,
                  purpose: Annotated[str, Depends(read_purpose("referral.read", referrer))]
                  ) -> ReferralOut:
    """State, offers, the routing explanation and any alert (needs `X-Purpose-Of-Use`)."""
    return to_out(*uc.get_referral(deps, referral_id, actor, purpose))


@router.post("/{referral_id}/cancel", response_model=ReferralOut,
             summary="Withdraw a referral; partners are told to discard what they received")
def cancel(referral_id: uuid.UUID, actor: Referrer, deps: Handlers, now: Now,
           purpose: WritePurpose) -> ReferralOut:
    """Cancel a referral that is requested or accepted."""
    return to_out(*uc.cancel_referral(deps, referral_id, actor, now, purpose))


@cases.get("/{case_id}/referrals", response_model=CaseReferralsOut,
           summary="A case's referrals and the needs awaiting consent")
def case_referrals(case_id: uuid.UUID, actor: Referrer, deps: Handlers,
                   purpose: Annotated[str, Depends(read_purpose("referral.list", referrer))]
                   ) -> CaseReferralsOut:
    """Referrals by your organisation for this case (none: an empty list, not 404); needs
    `X-Purpose-Of-Use`."""
    found, waiting = uc.case_referrals(deps, case_id, actor, purpose)
    return CaseReferralsOut(
        referrals=[to_out(r, c) for r, c in found],
        awaiting_consent=[AwaitingConsentOut(need=n.kind.value, urgency=n.urgency.value)  # type: ignore[arg-type]
                          for n in waiting])
