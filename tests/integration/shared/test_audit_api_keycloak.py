"""The auditor API mounted in a service app, with tokens from the real Keycloak: the auditor
reads, verifies and exports; a caseworker is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_tamper import build_chain, fresh_audit_database, modify
from fastapi.testclient import TestClient

from haven_shared.app import create_app
from haven_shared.audit import audit_router
from haven_shared.db import make_engine
from haven_shared.health import ReadinessProbe
from haven_shared.settings import ServiceSettings
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra
MASTER = "test-master-key-for-audit-chains"  # the key audit_tamper.KEY derives from


@pytest.fixture
def audited(stack: LocalStack) -> Iterator[tuple[TestClient, object]]:
    """An intake-like app with only the audit router, on a fresh database, 9 entries in."""
    with fresh_audit_database(stack.database_url("intake")) as url:
        settings = ServiceSettings(
            service_name="intake", environment="test", database_url=url,
            keycloak_issuer=stack.issuer, jwt_leeway_seconds=0,
            master_key=MASTER,  # type: ignore[arg-type]
        )
        engine = make_engine(url)
        build_chain(engine, 9, every=5)
        app = create_app(settings, ReadinessProbe({}), routers=[audit_router()])
        app.state.engine = engine
        try:
            with TestClient(app) as client:
                yield client, engine
        finally:
            engine.dispose()


def bearer(stack: LocalStack, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.password_token(user)}"}


def test_the_auditor_queries_verifies_and_exports(audited, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    client, _ = audited
    auditor = bearer(stack, "audrey")
    r = client.get("/audit/entries", params={"object_type": "missing_person_report",
                                             "object_id": "case-5"}, headers=auditor)
    assert r.status_code == 200, r.text
    assert [e["seq"] for e in r.json()["entries"]] == [5]
    r = client.get("/audit/verify", headers=auditor)
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["entries"] == 9
    r = client.get("/audit/export", params={"format": "csv"}, headers=auditor)
    assert r.status_code == 200 and len(r.text.splitlines()) == 10


def test_the_auditor_sees_the_first_broken_entry(audited, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    client, engine = audited
    modify(engine, 3)
    body = client.get("/audit/verify", headers=bearer(stack, "audrey")).json()
    assert (body["ok"], body["reason"], body["first_broken_seq"]) == (False, "modified", 3)


def test_a_caseworker_gets_403_on_every_audit_route(audited, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    client, _ = audited
    caseworker = bearer(stack, "ana")
    for path in ("/audit/entries", "/audit/verify", "/audit/export"):
        r = client.get(path, headers=caseworker)
        assert r.status_code == 403, path
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "seq" not in r.text


def test_no_token_gets_401(audited) -> None:  # type: ignore[no-untyped-def]
    client, _ = audited
    assert client.get("/audit/entries").status_code == 401
