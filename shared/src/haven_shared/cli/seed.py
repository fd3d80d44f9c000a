"""Demo data for a fresh `make up`: two providers in the registry, one case in intake.

Safe to run again: organisations are looked up by code and services by name before creating,
and the case is opened with a fixed Idempotency-Key.
"""

from __future__ import annotations

from typing import Any

import httpx

from haven_shared.cli.client import checked

DEMO_PROVIDERS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"name": "Shelter A", "code": "shelter-a", "email": "intake@shelter-a.example.org",
      "description": "Safe house for women and girls."},
     {"name": "Shelter A safe house", "kind": "shelter",
      "eligibility": {"genders": ["female"], "women_only": True, "child_qualified": True},
      "languages": ["en", "ar", "ti"],
      "locations": [{"name": "Safe house", "city": "Catania", "country": "IT"}],
      "capacity": {"available": 4, "maximum": 12, "unit": "bed"}}),
    ({"name": "Clinic B", "code": "clinic-b", "email": "desk@clinic-b.example.org",
      "description": "Medical and psychological care."},
     {"name": "Clinic B outpatient care", "kind": "medical",
      "languages": ["en", "fr"],
      "locations": [{"name": "Clinic", "city": "Catania", "country": "IT"}],
      "capacity": {"available": 20, "unit": "appointment"}}),
]

DEMO_CASE: dict[str, Any] = {"kind": "missing-person",
                             "person": {"display_name": "Yonas T. (demo)", "estimated_age": 24}}
DEMO_REPORT: dict[str, Any] = {
    "names": [{"text": "Yonas Tesfaye"}], "sex": "male", "estimated_age": 24,
    "nationalities": ["ER"], "languages": ["ti"],
    "last_seen": {"place": "Zuwara, Libya", "circumstances": "shipwreck",
                  "date": "2026-09-14"},
    "enquirer": {"name": "Selam Tesfaye", "relationship": "sibling",
                 "contact": "+39 333 000 0000"},
}


def seed_providers(registry: httpx.Client) -> list[dict[str, Any]]:
    """Create the demo organisations and services that are not there yet; all of them."""
    organisations = {o["code"]: o for o in checked(registry.get("/directory/organisations"),
                                                   "listing organisations")}
    services = []
    for organisation, service in DEMO_PROVIDERS:
        org = organisations.get(organisation["code"]) or checked(
            registry.post("/directory/organisations", json=organisation),
            f"creating {organisation['name']}")
        existing = checked(registry.get("/directory/services",
                                        params={"organisation_id": org["id"]}),
                           "listing services")
        found = next((s for s in existing if s["name"] == service["name"]), None)
        services.append(found or checked(
            registry.post("/directory/services", json={**service, "organisation_id": org["id"]}),
            f"creating {service['name']}"))
    return services


def seed_case(intake: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open the demo missing-person case and file its report (idempotent)."""
    case = checked(intake.post("/cases", json=DEMO_CASE,
                               headers={"Idempotency-Key": "haven-seed-demo-case-v1"}),
                   "opening the demo case")
    report = checked(intake.post(f"/cases/{case['id']}/missing-person-reports", json=DEMO_REPORT,
                                 headers={"Idempotency-Key": "haven-seed-demo-report-v1"}),
                     "filing the demo report")
    return case, report
