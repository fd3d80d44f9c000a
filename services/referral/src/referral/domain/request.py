"""A caseworker's request for a referral, and what a stored referral knows besides its offers.

`open_referral` is the whole decision of a new referral: check consent, route the need, keep the
explanation and the consented facts, and start the offers. Pure: no clock, no storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from referral.domain.offers import DEFAULT_SLA, OfferMode, Referral
from referral.domain.routing import Need, Provider, RoutingDecision, Survivor, Urgency, route
from referral.domain.sharing import Consent, check_consent, shared_facts


@dataclass(frozen=True)
class ReferralRequest:
    """One need of one case to refer, with the survivor's non-identifying facts and consent."""

    referral_id: str
    case_id: str
    organisation_id: str
    need: Need
    survivor: Survivor
    consent: Consent
    mode: OfferMode = OfferMode.SEQUENTIAL


@dataclass
class ReferralContext:
    """What a referral keeps besides its offers: whose it is, what may be shared, and why."""

    case_id: str
    organisation_id: str
    need: Need
    shared: dict[str, Any]
    consent: Consent
    routing: dict[str, Any]
    created_by: str
    created_at: datetime
    unmet: bool = False


def explain(decision: RoutingDecision) -> dict[str, Any]:
    """The routing explanation a caseworker sees: every provider, chosen or not, with reasons."""

    def one(a: Any) -> dict[str, Any]:
        return {"provider_id": a.provider.provider_id, "org": a.provider.org,
                "reasons": list(a.reasons)}

    return {"chosen": [one(a) for a in decision.chosen],
            "excluded": [one(a) for a in decision.excluded]}


def open_referral(request: ReferralRequest, providers: list[Provider], now: datetime,
                  created_by: str,
                  sla: dict[Urgency, timedelta] = DEFAULT_SLA) -> tuple[Referral, ReferralContext]:
    """Route `request` among `providers` and start its offers (ConsentRequired without consent).

    No eligible provider gives a referral with no offers, marked unmet, whose events say so.
    """
    check_consent(request.consent, request.survivor.is_minor)
    decision = route(request.need, request.survivor, providers)
    referral = Referral(request.referral_id, request.need.urgency, request.mode,
                        [a.provider for a in decision.chosen])
    facts: dict[str, object] = {
        "is_minor": request.survivor.is_minor, "sex": request.survivor.sex,
        "age": request.survivor.age, "languages": list(request.need.languages),
        "area": request.need.area, "staff_gender": request.need.staff_gender,
    }
    context = ReferralContext(
        case_id=request.case_id, organisation_id=request.organisation_id, need=request.need,
        shared=shared_facts(request.consent, facts), consent=request.consent,
        routing=explain(decision), created_by=created_by, created_at=now,
        unmet=decision.unmet,
    )
    referral.events.insert(0, ("requested", {"referral_id": request.referral_id}))
    referral.start(now, sla)
    return referral, context
