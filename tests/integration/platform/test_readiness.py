"""`/readyz` reports each dependency; an unreachable one makes it 503 problem+json."""

from __future__ import annotations

from fastapi.testclient import TestClient

from haven_shared.testing.stack import free_port


def test_readyz_is_ready_when_database_kafka_and_keycloak_answer(service_client: TestClient) -> None:
    r = service_client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "kafka": "ok", "keycloak": "ok"}


def test_healthz_needs_no_dependency(make_client) -> None:  # type: ignore[no-untyped-def]
    with make_client("intake", kafka_bootstrap=f"127.0.0.1:{free_port()}") as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "intake"}


def test_readyz_says_kafka_is_unreachable(make_client) -> None:  # type: ignore[no-untyped-def]
    with make_client("referral", kafka_bootstrap=f"127.0.0.1:{free_port()}") as client:
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    checks = r.json()["checks"]
    assert checks["kafka"].startswith("unavailable")
    assert checks["database"] == "ok" and checks["keycloak"] == "ok"


def test_keycloak_unreachable_gives_503_on_readyz_and_on_authenticated_requests(
    make_client, stack
) -> None:  # type: ignore[no-untyped-def]
    dead_issuer = f"http://127.0.0.1:{free_port()}/realms/haven"
    token = stack.password_token("ana")
    with make_client("registry", keycloak_issuer=dead_issuer, http_timeout_seconds=1) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["keycloak"].startswith("unavailable")
        r = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "identity provider" in r.json()["detail"]
    assert "Traceback" not in r.text


def test_readyz_says_the_database_is_unreachable(make_client) -> None:  # type: ignore[no-untyped-def]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/intake"
    # Without `with`: the app's start-up (which creates its schema) is not run, as for a
    # database that goes away after the service started.
    r = make_client("intake", database_url=url).get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("unavailable")
