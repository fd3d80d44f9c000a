"""Mapping between rows, registry's provider state and the referral domain's objects."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from haven_shared.events.registry import ProviderServiceState
from referral.adapters.orm import ProviderRow, ReferralRow
from referral.domain.lifecycle import Status
from referral.domain.offers import Offer, OfferMode, OfferStatus, Referral
from referral.domain.request import ReferralContext
from referral.domain.routing import ANY_AREA, Need, Provider, ServiceKind, Urgency
from referral.domain.sharing import Consent, SharedField

# A service whose capacity registry does not meter (e.g. legal advice) counts as open.
UNMETERED_CAPACITY = 1


def area_key(name: str) -> str:
    """Areas compare case-insensitively."""
    return name.strip().casefold()


def provider_values(state: ProviderServiceState) -> dict[str, Any]:
    """Column values of the read model for registry's state of one service."""
    areas = {a.name for a in state.areas}
    for loc in state.locations:
        areas.update(x for x in (loc.city, loc.region) if x)
    return {
        "service_id": state.service_id,
        "org": state.organisation_code or str(state.organisation_id),
        "name": state.name,
        "kind": state.kind,
        "status": state.status,
        "capacity": state.capacity.available if state.capacity else None,
        "areas": sorted(area_key(a) for a in areas),
        "languages": sorted(state.languages),
        "genders": sorted(state.eligibility.genders),
        "women_only": state.eligibility.women_only,
        "child_qualified": state.eligibility.child_qualified,
        "min_age": state.eligibility.minimum_age,
        "max_age": state.eligibility.maximum_age,
        "version": state.version,
        "changed_at": state.changed_at,
    }


def provider_from_row(row: ProviderRow) -> Provider:
    """The domain's view of a read-model row; a service listing no area serves any."""
    return Provider(
        provider_id=str(row.service_id), org=row.org, kind=ServiceKind(row.kind),
        capacity=UNMETERED_CAPACITY if row.capacity is None else row.capacity,
        active=row.status == "active",
        areas=frozenset(row.areas) if row.areas else frozenset({ANY_AREA}),
        languages=frozenset(row.languages), women_only=row.women_only,
        child_qualified=row.child_qualified, accepts_sexes=frozenset(row.genders),
        min_age=row.min_age, max_age=row.max_age,
    )


def provider_to_json(p: Provider) -> dict[str, Any]:
    return {"provider_id": p.provider_id, "org": p.org, "kind": p.kind.value,
            "capacity": p.capacity, "active": p.active, "areas": sorted(p.areas),
            "languages": sorted(p.languages), "women_only": p.women_only,
            "child_qualified": p.child_qualified, "accepts_sexes": sorted(p.accepts_sexes),
            "min_age": p.min_age, "max_age": p.max_age,
            "staff_genders": sorted(p.staff_genders)}


def provider_from_json(d: dict[str, Any]) -> Provider:
    return Provider(
        provider_id=d["provider_id"], org=d["org"], kind=ServiceKind(d["kind"]),
        capacity=d["capacity"], active=d["active"], areas=frozenset(d["areas"]),
        languages=frozenset(d["languages"]), women_only=d["women_only"],
        child_qualified=d["child_qualified"], accepts_sexes=frozenset(d["accepts_sexes"]),
        min_age=d["min_age"], max_age=d["max_age"],
        staff_genders=frozenset(d["staff_genders"]),
    )


def need_to_json(n: Need) -> dict[str, Any]:
    return {"kind": n.kind.value, "urgency": n.urgency.value, "area": n.area,
            "languages": list(n.languages), "women_only_shelter": n.women_only_shelter,
            "staff_gender": n.staff_gender}


def need_from_json(d: dict[str, Any]) -> Need:
    return Need(kind=ServiceKind(d["kind"]), urgency=Urgency(d["urgency"]), area=d["area"],
                languages=tuple(d["languages"]), women_only_shelter=d["women_only_shelter"],
                staff_gender=d["staff_gender"])


def _offer_to_json(o: Offer) -> dict[str, Any]:
    return {"provider_id": o.provider_id, "org": o.org, "deadline": o.deadline.isoformat(),
            "status": o.status.value, "reason": o.reason}


def _offer_from_json(d: dict[str, Any]) -> Offer:
    return Offer(d["provider_id"], d["org"], datetime.fromisoformat(d["deadline"]),
                 OfferStatus(d["status"]), d["reason"])


def consent_to_json(c: Consent) -> dict[str, Any]:
    return {"given": c.given, "fields": sorted(f.value for f in c.fields),
            "override_reason": c.override_reason, "override_by": c.override_by}


def consent_from_json(d: dict[str, Any]) -> Consent:
    return Consent(d["given"], frozenset(SharedField(f) for f in d["fields"]),
                   d["override_reason"], d["override_by"])


def referral_values(r: Referral, c: ReferralContext) -> dict[str, Any]:
    """Column values of a referral and its context (everything but the id and version)."""
    return {
        "case_id": uuid.UUID(c.case_id), "organisation_id": c.organisation_id,
        "need": need_to_json(c.need), "mode": r.mode.value, "status": r.status.value,
        "candidates": [provider_to_json(p) for p in r.candidates],
        "offers": [_offer_to_json(o) for o in r.offers], "routing": c.routing,
        "shared": c.shared, "consent": consent_to_json(c.consent), "unmet": c.unmet,
        "created_by": c.created_by, "created_at": c.created_at,
    }


def referral_from_row(row: ReferralRow) -> tuple[Referral, ReferralContext]:
    """The aggregate and its context, as stored."""
    need = need_from_json(row.need)
    referral = Referral(
        referral_id=str(row.id), urgency=need.urgency, mode=OfferMode(row.mode),
        candidates=[provider_from_json(p) for p in row.candidates],
        status=Status(row.status), offers=[_offer_from_json(o) for o in row.offers],
    )
    context = ReferralContext(
        case_id=str(row.case_id), organisation_id=row.organisation_id, need=need,
        shared=dict(row.shared), consent=consent_from_json(row.consent),
        routing=dict(row.routing), created_by=row.created_by, created_at=row.created_at,
        unmet=row.unmet,
    )
    return referral, context
