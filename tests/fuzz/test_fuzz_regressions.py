"""The requests schemathesis found accepted against their documented schema, kept as tests.

- `POST /deadlines` with `"due": -2.2250738585e-313` was stored as a permit expiring in 1970:
  pydantic read the number as seconds since the epoch. A date-time is RFC 3339 text only.
- `POST /directory/hsds/import` with `[]` answered 200 while the document said the body must be
  an object: the importer takes an HSDS page or a plain list of services, and now says so.
"""

from __future__ import annotations

import uuid

import pytest
from world import World

pytestmark = pytest.mark.infra
PROBLEM = "application/problem+json"


def test_a_deadline_due_as_a_number_is_refused(fuzz_world: World) -> None:
    body = {"case_id": str(uuid.uuid4()), "kind": "residence-permit-expiry"}
    r = fuzz_world.call(
        "referral", "ana", "POST", "/deadlines", json={**body, "due": -2.2250738585e-313}
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert any("due" in e["field"] for e in r.json()["errors"])
    ok = fuzz_world.call(
        "referral", "ana", "POST", "/deadlines", json={**body, "due": "2030-01-01T00:00:00+00:00"}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["due"].startswith("2030-01-01")


def test_the_hsds_import_documents_the_list_form_it_accepts(fuzz_world: World) -> None:
    client = fuzz_world.clients["registry"]
    op = client.app.openapi()["paths"]["/directory/hsds/import"]["post"]  # type: ignore[attr-defined]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert {s["type"] for s in schema["anyOf"]} == {"object", "array"}
    r = fuzz_world.call("registry", "dora", "POST", "/directory/hsds/import", json=[])
    assert r.status_code == 200 and r.json()["created"] == 0, r.text
    bad = fuzz_world.call("registry", "dora", "POST", "/directory/hsds/import", json="contents")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM), bad.text
