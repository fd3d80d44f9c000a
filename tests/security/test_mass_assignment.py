"""Mass assignment: fields the server owns, sent by a client in a create or update body, are
refused with 422 problem+json (or, were a body to accept them, ignored) — on every write endpoint
of the three live OpenAPI documents.

Each endpoint is called by a persona the authorisation matrix allows on an object of that
relation, with the valid body the matrix uses plus one server-owned field, so the only thing
wrong with the request is that field.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from test_authz_matrix import _fill, _object_ids, load_matrix
from world import World

pytestmark = pytest.mark.infra

INJECTED: dict[str, Any] = {
    "id": str(uuid.uuid4()),
    "case_id": str(uuid.uuid4()),
    "organisation_id": "ngo-b",
    "org": "ngo-b",
    "owner": "ngo-b",
    "organisation": {"code": "ngo-b"},
    "status": "closed",
    "opened_by": "mallory",
    "opened_at": "1999-01-01T00:00:00Z",
    "created_at": "1999-01-01T00:00:00Z",
    "updated_at": "1999-01-01T00:00:00Z",
    "changed_at": "1999-01-01T00:00:00Z",
    "recorded_at": "1999-01-01T00:00:00Z",
    "recorded_by": "mallory",
    "assessed_by": "mallory",
    "screened_by": "mallory",
    "decided_by": "mallory",
    "requested_by": "mallory",
    "assignees": ["mallory"],
    "version": 999,
    "offers": [],
    "decisions": [],
    "withdrawn_at": "1999-01-01T00:00:00Z",
}
# Server-owned-looking names that some request bodies own by design, and why.
CLIENT_OWNED = {
    ("intake", "POST /cases/{case_id}/status", "status"): "the requested case status",
    ("referral", "POST /referrals", "case_id"): "the case the referral is made for",
    ("referral", "POST /deadlines", "case_id"): "the case whose permit expires",
    ("registry", "POST /directory/services", "organisation_id"): "the provider organisation",
    (
        "registry",
        "PUT /directory/services/{service_id}",
        "organisation_id",
    ): "the provider organisation",
    ("registry", "POST /directory/services", "status"): "active or temporarily closed",
    ("registry", "PUT /directory/services/{service_id}", "status"): "active or temporarily closed",
}


def _write_endpoints(world: World) -> list[tuple[str, str, set[str]]]:
    """(service, "METHOD path", properties of its JSON body) of every endpoint with a body."""
    out = []
    for name, client in world.clients.items():
        spec = client.app.openapi()  # type: ignore[attr-defined]
        for path, ops in spec["paths"].items():
            for method, op in ops.items():
                content = op.get("requestBody", {}).get("content", {})
                if "application/json" not in content:
                    continue
                schema = content["application/json"].get("schema", {})
                props: set[str] = set()
                for ref in [schema, *schema.get("anyOf", [])]:
                    if "$ref" in ref:
                        target = spec["components"]["schemas"][ref["$ref"].split("/")[-1]]
                        props |= set(target.get("properties", {}))
                out.append((name, f"{method.upper()} {path}", props))
    return out


def _allowed_cell(entry: dict[str, Any]) -> tuple[str, str]:
    """A persona and relation the matrix allows for this endpoint."""
    for persona, cells in entry["expect"].items():
        for relation, verdict in cells.items():
            if verdict == "allow":
                return persona, relation
    raise AssertionError(f"nobody may call {entry['endpoint']}")


def test_server_owned_fields_in_a_body_are_refused_or_ignored(world: World) -> None:
    matrix = load_matrix()
    rows = {(e["service"], e["endpoint"]): e for e in matrix["endpoints"]}
    users = {p: v["user"] for p, v in matrix["personas"].items()}
    overlap = set()
    tried = refused = endpoints = 0
    failures: list[str] = []
    writes = _write_endpoints(world)
    assert len(writes) >= 25, "every create and update endpoint is covered"
    for service, endpoint, props in writes:
        if (service, endpoint) not in rows:
            continue  # test_authz_matrix fails for an endpoint missing from the matrix
        method, path = endpoint.split(" ", 1)
        persona, relation = _allowed_cell(rows[(service, endpoint)])
        req = _fill(
            world, method, path, _object_ids(world, rows[(service, endpoint)]["object"], relation)
        )
        if req.content is not None:
            continue  # the HSDS import takes a whole HSDS page, ids included (an import)
        endpoints += 1
        base = req.body if isinstance(req.body, dict) else {}
        for field, value in INJECTED.items():
            if field in props:
                overlap.add((service, endpoint, field))
                continue
            tried += 1
            r = world.call(service, users[persona], method, req.path, json={**base, field: value})
            if r.status_code == 422:
                refused += 1
                assert r.headers["content-type"].startswith("application/problem+json")
                assert any(field in e.get("field", "") for e in r.json().get("errors", [])), r.text
                continue
            if 200 <= r.status_code < 300:
                echoed = r.json().get(field) if isinstance(r.json(), dict) else None
                if echoed != value:
                    continue  # ignored
            failures.append(f"{service} {endpoint} +{field}: {r.status_code} {r.text[:200]}")
    assert failures == [], "\n".join(failures)
    assert overlap == set(CLIENT_OWNED), sorted(overlap ^ set(CLIENT_OWNED))
    print(
        f"mass assignment: {endpoints} write endpoints, {tried} injections, "
        f"{refused} refused with 422, {tried - refused} ignored"
    )
