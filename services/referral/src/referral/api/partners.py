"""Routes of partner organisations' staff: answer referrals offered to their organisation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from referral.api.convert import to_partner_out
from referral.api.dependencies import Handlers, Now, Partner, partner, read_purpose
from referral.api.schemas import PartnerAnswer, PartnerReferralOut
from referral.service_layer import referrals as uc

router = APIRouter(prefix="/partner/referrals", tags=["partners"])


@router.get("/{referral_id}", response_model=PartnerReferralOut,
            summary="A referral offered to your organisation, with only the consented facts")
def read_offered(referral_id: uuid.UUID, actor: Partner, deps: Handlers,
                 purpose: Annotated[str, Depends(read_purpose("partner-referral.read",
                                                              partner))]
                 ) -> PartnerReferralOut:
    """The need and consented facts under your pseudonym, while the offer is yours (needs
    `X-Purpose-Of-Use`, e.g. `service-provision`)."""
    referral, context = uc.get_offered(deps, referral_id, actor, purpose)
    return to_partner_out(referral, actor.org, context,
                          deps.translate.pseudonym(actor.org, context.case_id))


@router.post("/{referral_id}/{action}", response_model=PartnerReferralOut,
             summary="Accept, reject, start, hold, resume, complete or fail a referral")
def answer(referral_id: uuid.UUID, action: uc.PartnerAction, actor: Partner, deps: Handlers,
           now: Now, body: PartnerAnswer | None = None) -> PartnerReferralOut:
    """A lifecycle step by the partner the referral was offered to (409 when not allowed)."""
    reason = body.reason if body else None
    referral, _ = uc.partner_answer(deps, referral_id, actor, action, reason, now)
    return to_partner_out(referral, actor.org)
