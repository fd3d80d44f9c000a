"""Export of the directory as Open Referral HSDS 3.0 JSON (capacity as in the HSDS 3.1 draft).

One provider service becomes one HSDS `service` object with its `organization`, `languages`,
`service_areas`, `schedules` and `service_at_locations` nested, as the HSDS 3.0 API returns it
from `/services/{id}`. What HSDS 3.0 has no field for travels as `attributes` with terms of two
Haven taxonomies: the service kind (`haven-service-kind`) and the eligibility rules that
referral routes on (`haven-eligibility`). Capacity uses the 3.1 draft's `capacities` array of
`service_capacity` objects, which 3.0 validators accept as an additional property.

Ids HSDS requires but Haven does not keep (attributes, languages, addresses) are UUIDv5 derived
from the service id, so exporting twice gives the same document.
"""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID, uuid5

from registry.domain.directory import (
    Location,
    Organisation,
    ProviderService,
    ServiceStatus,
)

HAVEN_HSDS_NAMESPACE = UUID("3b8f6d0e-9c4a-5e21-8f7b-2d6c1a0e4b93")
KIND_TAXONOMY = "haven-service-kind"
ELIGIBILITY_TAXONOMY = "haven-eligibility"
ORG_IDENTIFIER_TYPE = "haven-organisation-claim"

STATUS_TO_HSDS = {
    ServiceStatus.ACTIVE: "active",
    ServiceStatus.TEMPORARILY_CLOSED: "temporarily closed",
    ServiceStatus.WITHDRAWN: "inactive",
}


def derived_id(*parts: object) -> str:
    """A stable UUID for an HSDS object Haven does not store on its own."""
    return str(uuid5(HAVEN_HSDS_NAMESPACE, "/".join(str(p) for p in parts)))


def page(services: list[ProviderService], *, total_items: int | None = None,
         page_number: int = 1, per_page: int | None = None) -> dict[str, Any]:
    """An HSDS 3.0 API page (`/services`) holding the given services in full.

    Without `total_items`/`per_page` the page holds the whole selection.
    """
    total = len(services) if total_items is None else total_items
    size = per_page or max(total, 1)
    pages = max(1, -(-total // size))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page_number,
        "size": len(services),
        "first_page": page_number == 1,
        "last_page": page_number >= pages,
        "empty": not services,
        "contents": [service_to_hsds(s) for s in services],
    }


def organisation_to_hsds(org: Organisation) -> dict[str, Any]:
    """The HSDS `organization` object of an organisation."""
    out: dict[str, Any] = {"id": str(org.id), "name": org.name, "description": org.description}
    if org.website:
        out["website"] = org.website
    if org.email:
        out["email"] = org.email
    if org.code:
        out["organization_identifiers"] = [{
            "id": derived_id(org.id, "identifier", org.code),
            "organization_id": str(org.id),
            "identifier_scheme": "haven",
            "identifier_type": ORG_IDENTIFIER_TYPE,
            "identifier": org.code,
        }]
    return out


def _term(taxonomy: str, code: str, name: str) -> dict[str, Any]:
    return {"id": derived_id("term", taxonomy, code), "code": code, "name": name,
            "description": f"{taxonomy}: {name}", "taxonomy": taxonomy}


def _attribute(service: ProviderService, taxonomy: str, code: str, value: str) -> dict[str, Any]:
    term = _term(taxonomy, code, code.replace("_", " "))
    return {"id": derived_id(service.id, "attribute", taxonomy, code, value),
            "link_id": str(service.id), "link_type": "service", "link_entity": "service",
            "taxonomy_term_id": term["id"], "value": value, "taxonomy_term": term}


def _attributes(service: ProviderService) -> list[dict[str, Any]]:
    d, e = service.details, service.details.eligibility
    out = [_attribute(service, KIND_TAXONOMY, d.kind.value, d.kind.value)]
    out += [_attribute(service, ELIGIBILITY_TAXONOMY, "gender", g.value)
            for g in sorted(e.genders)]
    out.append(_attribute(service, ELIGIBILITY_TAXONOMY, "women_only",
                          str(e.women_only).lower()))
    out.append(_attribute(service, ELIGIBILITY_TAXONOMY, "child_qualified",
                          str(e.child_qualified).lower()))
    return out


def _eligibility_text(service: ProviderService) -> str:
    e = service.details.eligibility
    parts = []
    if e.women_only:
        parts.append("Women only.")
    elif e.genders:
        parts.append("Accepts: " + ", ".join(sorted(g.value for g in e.genders)) + ".")
    parts.append("Qualified for children." if e.child_qualified else "Adults only.")
    return " ".join(parts)


def _location(service: ProviderService, loc: Location) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(loc.id), "location_type": "physical", "name": loc.name,
                           "organization_id": str(service.organisation.id)}
    for key in ("latitude", "longitude"):
        value = getattr(loc, key)
        if value is not None and math.isfinite(value):
            out[key] = value
    if any((loc.address, loc.city, loc.region, loc.postal_code, loc.country)):
        out["addresses"] = [{
            "id": derived_id(loc.id, "address"), "location_id": str(loc.id),
            "address_1": loc.address, "city": loc.city, "region": loc.region,
            "state_province": loc.region, "postal_code": loc.postal_code,
            "country": loc.country, "address_type": "physical",
        }]
    return out


def service_to_hsds(service: ProviderService) -> dict[str, Any]:
    """The HSDS 3.0 `service` object of a provider service, with its organisation nested."""
    d, e, sid = service.details, service.details.eligibility, str(service.id)
    out: dict[str, Any] = {
        "id": sid,
        "organization_id": str(service.organisation.id),
        "name": d.name,
        "description": d.description,
        "status": STATUS_TO_HSDS[d.status],
        "eligibility_description": _eligibility_text(service),
        "last_modified": service.changed_at.isoformat(),
        "organization": organisation_to_hsds(service.organisation),
        "attributes": _attributes(service),
        "languages": [{"id": derived_id(sid, "language", code), "service_id": sid,
                       "code": code} for code in d.languages],
        "service_areas": [{"id": str(a.id), "service_id": sid, "name": a.name,
                           "extent": a.extent, "extent_type": a.extent_type} for a in d.areas],
        "schedules": [{"id": str(h.id), "service_id": sid, "freq": "WEEKLY", "wkst": "MO",
                       "byday": h.day.value, "opens_at": h.opens_at.isoformat("minutes"),
                       "closes_at": h.closes_at.isoformat("minutes")}
                      for h in d.opening_hours],
        "service_at_locations": [{"id": derived_id(sid, "at", loc.id), "service_id": sid,
                                  "location_id": str(loc.id),
                                  "location": _location(service, loc)}
                                 for loc in d.locations],
    }
    if e.minimum_age is not None:
        out["minimum_age"] = e.minimum_age
    if e.maximum_age is not None:
        out["maximum_age"] = e.maximum_age
    cap = service.capacity
    if cap is not None:
        unit = {"id": derived_id("unit", cap.unit), "name": cap.unit}
        capacity: dict[str, Any] = {"id": str(cap.id), "service_id": sid, "unit": unit,
                                    "unit_id": unit["id"], "available": cap.available,
                                    "updated": cap.updated_at.isoformat()}
        if cap.maximum is not None:
            capacity["maximum"] = cap.maximum
        out["capacities"] = [capacity]
    return out
