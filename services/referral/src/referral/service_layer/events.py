"""Domain events of a referral → integration events (internal topic and partner topics).

The domain records plain (name, data) tuples; here each becomes a catalogue event with the case
and organisation, and every offer also becomes a partner event carrying only the consented
facts under that partner's pseudonym.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from haven_shared.events.model import Event
from haven_shared.events.referral import (
    PartnerReferralOffered,
    PartnerReferralWithdrawn,
    ReferralOfferClosed,
    ReferralOffered,
    ReferralRequested,
    ReferralStatusChanged,
    SharedFacts,
    UnmetNeed,
)
from referral.domain.lifecycle import Status
from referral.domain.offers import Offer, OfferStatus, Referral
from referral.domain.request import ReferralContext
from referral.domain.sharing import partner_pseudonym

_CLOSED = {"offer-rejected": "rejected", "offer-cancelled": "cancelled",
           "offer-expired": "expired"}


class EventTranslator:
    """Turns one referral's recorded domain events into integration events."""

    def __init__(self, master_key: bytes) -> None:
        self.master_key = master_key

    def pseudonym(self, org: str, case_id: str) -> str:
        return partner_pseudonym(self.master_key, org, case_id)

    def __call__(self, referral: Referral, context: ReferralContext, now: datetime,
                 reason_code: str | None = None) -> list[Event]:
        """Take (and clear) `referral.events`, translated."""
        out: list[Event] = []
        common = {"referral_id": UUID(referral.referral_id), "case_id": UUID(context.case_id),
                  "organisation_id": context.organisation_id}
        while referral.events:
            name, data = referral.events.pop(0)
            org = data.get("org")
            if name == "requested":
                out.append(ReferralRequested(
                    **common, need=context.need.kind.value, urgency=referral.urgency.value,
                    mode=referral.mode.value,
                    candidates=[UUID(p.provider_id) for p in referral.candidates],
                    child_protection_override=context.consent.overridden, requested_at=now))
            elif name == "unmet":
                out.append(UnmetNeed(
                    **common, need=context.need.kind.value, urgency=referral.urgency.value,
                    providers_considered=len(context.routing.get("excluded", [])), at=now))
            elif name == "offered" and org:
                offer = _offer(referral, data["provider_id"])
                out.append(ReferralOffered(**common, provider_id=UUID(offer.provider_id),
                                           partner_org=org, deadline=offer.deadline))
                out.append(self.partner_offer(referral, context, offer))
            elif name in _CLOSED and org:
                outcome = _CLOSED[name]
                out.append(ReferralOfferClosed(**common, provider_id=UUID(data["provider_id"]),
                                               partner_org=org, outcome=outcome))  # type: ignore[arg-type]
                if name != "offer-rejected":
                    out.append(self.withdrawal(referral, context, org, outcome))
            elif name == "accepted":
                out.append(ReferralStatusChanged(**common, status="accepted", partner_org=org,
                                                 changed_at=now))
            elif name == "rejected":
                out.append(ReferralStatusChanged(**common, status="rejected",
                                                 reason_code="no-provider-accepted",
                                                 changed_at=now))
            elif name in {s.value for s in Status}:
                out.append(ReferralStatusChanged(
                    **common, status=name, partner_org=accepted_org(referral),  # type: ignore[arg-type]
                    reason_code=reason_code, changed_at=now))
        return out

    def partner_offer(self, referral: Referral, context: ReferralContext, offer: Offer
                      ) -> PartnerReferralOffered:
        """The offer as the partner sees it: consented facts only, under its pseudonym."""
        return PartnerReferralOffered(
            referral_id=UUID(referral.referral_id), partner_org=offer.org,
            subject=self.pseudonym(offer.org, context.case_id),
            provider_id=UUID(offer.provider_id), need=context.need.kind.value,
            urgency=referral.urgency.value, respond_by=offer.deadline,
            shared=SharedFacts(**context.shared))

    def withdrawal(self, referral: Referral, context: ReferralContext, org: str,
                   outcome: str) -> PartnerReferralWithdrawn:
        """Tells partner `org` the offer is gone and what it received must be discarded."""
        if outcome == "cancelled" and referral.status != Status.CANCELLED:
            outcome = "taken-by-another"
        return PartnerReferralWithdrawn(
            referral_id=UUID(referral.referral_id), partner_org=org,
            subject=self.pseudonym(org, context.case_id), outcome=outcome)  # type: ignore[arg-type]


def _offer(referral: Referral, provider_id: str) -> Offer:
    return [o for o in referral.offers if o.provider_id == provider_id][-1]


def accepted_org(referral: Referral) -> str | None:
    """The organisation whose acceptance the referral carries, if any."""
    for o in referral.offers:
        if o.status == OfferStatus.ACCEPTED:
            return o.org
    return None
