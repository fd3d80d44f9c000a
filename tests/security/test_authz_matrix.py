"""The authorisation matrix (docs/security/authz-matrix.yaml), called cell by cell.

Every endpoint of the three live OpenAPI documents must be in the matrix, for every persona,
with an explicit allow, deny or n/a for every relation of its object. Each cell that applies is
one request against the in-process services with the persona's real Keycloak token; the test
fails on any unexpected allow, unexpected deny, or answer that is neither (a 5xx, a 422 of a
request the world made valid). Figures go to `.run/security-authz-figures.json`.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from world import (
    World,
    assessment,
    consent,
    decision,
    found_person,
    missing_person,
    organisation,
    referral,
    remains,
    screening,
    service,
)

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
MATRIX = REPO / "docs" / "security" / "authz-matrix.yaml"
FIGURES = REPO / ".run" / "security-authz-figures.json"
VALUES = {"allow", "deny", "n/a"}
# Steps that end an object's life run after every other request of the matrix.
TERMINAL = ("/withdrawal", "/cancel", "/erasure", "/confirmation", "/rejection", "/{action}")


def load_matrix() -> dict[str, Any]:
    matrix: dict[str, Any] = yaml.safe_load(MATRIX.read_text())
    return matrix


def live_endpoints(world: World) -> set[tuple[str, str, str]]:
    found = set()
    for name, client in world.clients.items():
        for path, ops in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
            for method in ops:
                found.add((name, method.upper(), path))
    return found


def relations_of(matrix: dict[str, Any], obj: str) -> list[str]:
    objects: dict[str, list[str]] = matrix["objects"]
    return objects.get(obj, objects["default"])


def test_the_matrix_lists_every_live_endpoint_for_every_persona(world: World) -> None:
    matrix = load_matrix()
    listed = [(e["service"], *e["endpoint"].split(" ", 1)) for e in matrix["endpoints"]]
    assert len(listed) == len(set(listed)), "an endpoint is listed twice"
    live = live_endpoints(world)
    assert sorted(live - set(listed)) == [], "endpoints served but missing from the matrix"
    assert sorted(set(listed) - live) == [], "endpoints in the matrix that are not served"
    personas = set(matrix["personas"])
    for e in matrix["endpoints"]:
        assert set(e["expect"]) == personas, e["endpoint"]
        keys = {
            "own_assigned",
            "own_unassigned",
            "other_org",
            "shared_referral",
            "minor",
            *relations_of(matrix, e["object"]),
        }
        for persona, cells in e["expect"].items():
            assert set(cells) == keys, (e["endpoint"], persona, sorted(cells))
            assert set(cells.values()) <= VALUES, (e["endpoint"], persona)
            outside = [
                r for r in keys - set(relations_of(matrix, e["object"])) if cells[r] != "n/a"
            ]
            assert outside == [], (e["endpoint"], persona, outside)


@dataclass(frozen=True)
class Request:
    path: str
    body: Any = None
    content: bytes | None = None
    listed: str | None = None  # for a list: the id that must (allow) or must not (deny) appear


def _object_ids(world: World, obj: str, relation: str) -> dict[str, str]:
    """Path parameters naming the object of `obj` in `relation` (and the listed id)."""
    if obj == "trace":
        return {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    if relation == "none":
        return {}
    reg = world.ids["registry"]
    if obj.startswith("match"):
        cid = reg[relation]
        return {"candidate_id": cid, "listed": cid}
    if obj.startswith("family_notification"):
        tid = reg["task:ngo-b" if relation == "other_org" else "task:ngo-a"]
        return {"task_id": tid, "listed": tid}
    if obj.startswith("directory"):
        code = "shelter-a" if relation == "own_unassigned" else "clinic-b"
        kind = {"directory_org": "org", "directory_service": "service", "directory_spare": "spare"}[
            obj
        ]
        key = "organisation_id" if kind == "org" else "service_id"
        return {key: reg[f"{code}:{kind}"]}
    ids = world.ids[relation]
    survivor = ids["case"]
    table: dict[str, dict[str, str]] = {
        "case": {"case_id": survivor},
        "case_list": {"listed": survivor},
        "consent": {"case_id": survivor, "consent_id": ids["consent"]},
        "screening": {"case_id": survivor, "screening_id": ids["screening"]},
        "assessment": {"case_id": survivor, "assessment_id": ids["assessment"]},
        "found_case": {"case_id": ids["found-person"]},
        "found_record": {"case_id": ids["found-person"], "record_id": ids["found_record"]},
        "missing_case": {"case_id": ids["missing-person"]},
        "missing_report": {"case_id": ids["missing-person"], "report_id": ids["missing_report"]},
        "remains_case": {"case_id": ids["unidentified-remains"]},
        "remains_record": {"case_id": ids["unidentified-remains"], "remains_id": ids["remains"]},
        "erasable": {"subject_ref": ids["erasable"]},
        "case_referrals": {"case_id": survivor, "listed": ids["referral"]},
        "deadline_list": {"listed": ids["deadline"]},
        "referral": {"referral_id": ids["referral"]},
        "cancellable_referral": {"referral_id": ids["cancellable"]},
        "partner_referral": {"referral_id": ids["referral"], "action": "accept"},
    }
    return table[obj]


def _body(world: World, method: str, path: str) -> tuple[Any, bytes | None]:
    """A valid body for the endpoint (so an allowed call succeeds)."""
    reg, own = world.ids["registry"], world.ids["own_assigned"]
    if method == "GET":
        return None, None
    if path == "/directory/hsds/import":
        return None, json.dumps(world.bodies["hsds_page"]).encode()
    bodies: dict[str, Any] = {
        "/cases": {"kind": "survivor-support"},
        "/cases/{case_id}/assignees": {"username": "ben"},
        "/cases/{case_id}/consents": consent(),
        "/cases/{case_id}/found-persons": found_person(),
        "/cases/{case_id}/found-persons/{record_id}": found_person(),
        "/cases/{case_id}/missing-person-reports": missing_person(),
        "/cases/{case_id}/missing-person-reports/{report_id}": missing_person(),
        "/cases/{case_id}/remains": remains(),
        "/cases/{case_id}/remains/{remains_id}": remains(),
        "/cases/{case_id}/needs-assessments": assessment(),
        "/cases/{case_id}/screenings": screening(),
        "/cases/{case_id}/screenings/{screening_id}/decisions": decision(),
        "/cases/{case_id}/screenings/{screening_id}/reconsiderations": {
            "stage": "reasonable-grounds"
        },
        "/cases/{case_id}/status": {"risk_level": "high"},
        "/subjects/{subject_ref}/erasure": {"reason": "data-subject-request"},
        "/deadlines": {
            "case_id": own["case"],
            "kind": "residence-permit-expiry",
            "due": "2030-01-01T00:00:00+00:00",
        },
        "/referrals": referral(own["case"], world.bodies["area"], "shelter"),
        "/directory/organisations": organisation(f"New {uuid.uuid4().hex[:6]}", ""),
        "/directory/organisations/{organisation_id}": None,  # filled per object below
        "/directory/services": service(reg["clinic-b:org"], "counselling", "New counselling"),
        "/directory/services/{service_id}/capacity": {"unit": "bed", "available": 2, "maximum": 10},
        "/directory/services/{service_id}/withdrawal": {"reason": "Closed for the winter."},
        "/matches/{candidate_id}/rejection": {"reason": "Different people."},
        "/family-notifications/{task_id}/state": {"state": "in-progress"},
    }
    return bodies.get(path), None


def _fill(world: World, method: str, path: str, params: dict[str, str]) -> Request:
    listed = params.pop("listed", None)
    body, content = _body(world, method, path)
    if method == "PUT" and path == "/directory/organisations/{organisation_id}":
        code = (
            "shelter-a"
            if params["organisation_id"] == world.ids["registry"]["shelter-a:org"]
            else "clinic-b"
        )
        body = organisation(f"{code} organisation", code)
    if method == "PUT" and path == "/directory/services/{service_id}":
        code = (
            "shelter-a"
            if params["service_id"] == world.ids["registry"]["shelter-a:service"]
            else "clinic-b"
        )
        kind = "shelter" if code == "shelter-a" else "counselling"
        body = service(world.ids["registry"][f"{code}:org"], kind, f"{kind} of {code}")
    return Request(path.format(**params), body, content, listed)


def _verdict(r: Any, req: Request) -> str:
    if r.status_code in (401, 403, 404):
        return "deny"
    if req.listed is not None and r.status_code == 200:
        return "allow" if req.listed in r.text else "deny"
    if 200 <= r.status_code < 300 or r.status_code == 409:
        return "allow"
    return f"error {r.status_code}"


def test_every_cell_of_the_matrix_holds(world: World) -> None:
    matrix = load_matrix()
    users = {p: v["user"] for p, v in matrix["personas"].items()}
    endpoints = sorted(
        enumerate(matrix["endpoints"]),
        key=lambda ie: (
            ie[1]["endpoint"].split(" ", 1)[0] != "GET",
            ie[1]["endpoint"].endswith(TERMINAL),
            ie[0],
        ),
    )
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    for _, e in endpoints:
        method, path = e["endpoint"].split(" ", 1)
        for persona, cells in e["expect"].items():
            for relation, expected in cells.items():
                if expected == "n/a":
                    counts["n/a"] += 1
                    continue
                req = _fill(world, method, path, _object_ids(world, e["object"], relation))
                if req.content is not None:
                    r = world.clients[e["service"]].request(
                        method,
                        req.path,
                        content=req.content,
                        headers={
                            **world.headers(users[persona]),
                            "Content-Type": "application/json",
                        },
                    )
                else:
                    r = world.call(e["service"], users[persona], method, req.path, json=req.body)
                got = _verdict(r, req)
                counts["cases"] += 1
                if got != expected:
                    kind = (
                        "unexpected_allow"
                        if got == "allow"
                        else "unexpected_deny"
                        if got == "deny"
                        else "errors"
                    )
                    counts[kind] += 1
                    wrong.append(
                        f"{e['service']} {method} {path} as {persona} on {relation}: "
                        f"expected {expected}, got {got} ({r.status_code} "
                        f"{r.text[:160]})"
                    )
    figures = {
        "endpoints": len(matrix["endpoints"]),
        "personas": len(users),
        "cases_run": counts["cases"],
        "cells_not_applicable": counts["n/a"],
        "unexpected_allows": counts["unexpected_allow"],
        "unexpected_denies": counts["unexpected_deny"],
        "errors": counts["errors"],
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    assert wrong == [], "\n".join(wrong)
    assert counts["cases"] > 1000
