"""API bodies ↔ domain objects, at the edge."""

from __future__ import annotations

import uuid

from referral.api.schemas import (
    AlertOut,
    OfferOut,
    PartnerReferralOut,
    ReferralCreate,
    ReferralOut,
    RoutingOut,
)
from referral.domain.lifecycle import Status
from referral.domain.offers import OfferMode, OfferStatus, Referral
from referral.domain.request import ReferralContext, ReferralRequest
from referral.domain.routing import Need, ServiceKind, Survivor, Urgency
from referral.domain.sharing import Consent, SharedField


def to_request(body: ReferralCreate, org: str, username: str) -> ReferralRequest:
    """The domain's request for a body posted by `username` of `org`."""
    override = body.child_protection_override
    need = body.need
    return ReferralRequest(
        referral_id=str(uuid.uuid4()),
        case_id=str(body.case_id),
        organisation_id=org,
        need=Need(kind=ServiceKind(need.kind), urgency=Urgency(need.urgency),
                  area=need.area.strip().casefold() if need.area else None,
                  languages=tuple(need.languages), women_only_shelter=need.women_only_shelter,
                  staff_gender=need.staff_gender),
        survivor=Survivor(is_minor=body.survivor.is_minor, sex=body.survivor.sex,
                          age=body.survivor.age),
        consent=Consent(given=body.consent.given,
                        fields=frozenset(SharedField(f) for f in body.consent.shared_fields),
                        override_reason=override.reason if override else None,
                        override_by=username if override else None),
        mode=OfferMode(body.mode),
    )


def to_out(referral: Referral, context: ReferralContext) -> ReferralOut:
    """The referring organisation's view of a referral."""
    alerts = [AlertOut(kind="unmet-need",
                       detail="No eligible provider was found; see routing.excluded.")
              ] if context.unmet else []
    return ReferralOut(
        id=referral.referral_id, case_id=context.case_id, status=referral.status.value,
        mode=referral.mode.value, need=context.need.kind.value,  # type: ignore[arg-type]
        urgency=referral.urgency.value,
        offers=[OfferOut(provider_id=o.provider_id, org=o.org, status=o.status.value,
                         respond_by=o.deadline) for o in referral.offers],
        routing=RoutingOut.model_validate(context.routing),
        shared_fields=sorted(context.shared), child_protection_override=context.consent.overridden,
        alerts=alerts, created_at=context.created_at,
    )


def to_partner_out(referral: Referral, org: str, context: ReferralContext | None = None,
                   pseudonym: str | None = None) -> PartnerReferralOut:
    """A partner's view: the referral's state and its own offer; with `context`, also the need
    and consented facts, but only while the offer is open or accepted by this partner."""
    mine = [o for o in referral.offers if o.org == org]
    out = PartnerReferralOut(id=referral.referral_id, status=referral.status.value,
                             offer_status=mine[-1].status.value if mine else "none")
    holding = mine and mine[-1].status in (OfferStatus.OPEN, OfferStatus.ACCEPTED)
    cancelled = referral.status in (Status.CANCELLED, Status.ENTERED_IN_ERROR)
    if context is None or not holding or cancelled:
        return out
    return out.model_copy(update={
        "subject": pseudonym, "need": context.need.kind.value, "urgency": referral.urgency.value,
        "respond_by": mine[-1].deadline, "shared": dict(context.shared)})
