"""Every service accepts the realm's tokens for its audience and refuses everything else with 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from haven_shared.testing.stack import LocalStack

PROBLEM = "application/problem+json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(header + "==")),
        json.loads(base64.urlsafe_b64decode(payload + "==")),
    )


def assert_unauthorized(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_demo_caseworker_token_from_keycloak_is_accepted_by_whoami(
    service_client: TestClient, stack: LocalStack
) -> None:
    token = stack.password_token("ana")
    r = service_client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["username"] == "ana"
    assert body["org"] == "ngo-a"
    assert body["roles"] == ["caseworker"]


def test_a_partner_client_token_carries_its_organisation(stack: LocalStack, make_client) -> None:  # type: ignore[no-untyped-def]
    with make_client("referral") as client:
        token = stack.client_token("partner-shelter-a", "HAVEN_PARTNER_SHELTER_A_SECRET")
        r = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.json()["org"] == "shelter-a"
    assert r.json()["roles"] == ["provider_staff"]
    assert r.json()["client_id"] == "partner-shelter-a"


def test_a_request_without_a_token_is_refused(service_client: TestClient) -> None:
    assert_unauthorized(service_client.get("/whoami"))


def test_a_token_for_another_audience_is_refused(
    service_client: TestClient, stack: LocalStack
) -> None:
    token = stack.password_token("ana", client_id="outside-app")
    assert service_client.app.state.settings.audience not in _parts(token)[1].get("aud", [])
    r = service_client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert_unauthorized(r)
    assert "not meant for this service" in r.json()["detail"]


def test_an_expired_token_is_refused(service_client: TestClient, stack: LocalStack) -> None:
    token = stack.password_token("ana", client_id="haven-short-lived")
    _, claims = _parts(token)
    assert claims["exp"] - claims["iat"] <= 2
    time.sleep(max(0.0, claims["exp"] - time.time()) + 1.1)
    r = service_client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert_unauthorized(r)
    assert "expired" in r.json()["detail"]


def test_a_token_signed_by_another_key_is_refused(
    service_client: TestClient, stack: LocalStack
) -> None:
    header, claims = _parts(stack.password_token("ana"))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": header["kid"]})
    assert_unauthorized(service_client.get("/whoami", headers={"Authorization": f"Bearer {forged}"}))


def test_a_token_with_an_unknown_key_id_is_refused(
    service_client: TestClient, stack: LocalStack
) -> None:
    _, claims = _parts(stack.password_token("ana"))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "not-a-realm-key"})
    assert_unauthorized(service_client.get("/whoami", headers={"Authorization": f"Bearer {forged}"}))


def test_an_unsigned_alg_none_token_is_refused(
    service_client: TestClient, stack: LocalStack
) -> None:
    _, claims = _parts(stack.password_token("ana"))
    forged = f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}."
    assert_unauthorized(service_client.get("/whoami", headers={"Authorization": f"Bearer {forged}"}))


def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    service_client: TestClient, stack: LocalStack
) -> None:
    import httpx

    header, claims = _parts(stack.password_token("ana"))
    jwks = httpx.get(f"{stack.issuer}/protocol/openid-connect/certs", timeout=10).json()
    public_pem = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"])).key
    from cryptography.hazmat.primitives import serialization

    secret = public_pem.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': header['kid']}).encode())}."
        f"{_b64(json.dumps(claims).encode())}"
    )
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{_b64(sig)}"
    assert_unauthorized(service_client.get("/whoami", headers={"Authorization": f"Bearer {forged}"}))


def test_a_tampered_payload_is_refused(service_client: TestClient, stack: LocalStack) -> None:
    token = stack.password_token("ana")
    header_b64, _, sig = token.split(".")
    _, claims = _parts(token)
    claims["realm_access"] = {"roles": ["admin"]}
    claims["org"] = "ngo-b"
    forged = f"{header_b64}.{_b64(json.dumps(claims).encode())}.{sig}"
    assert_unauthorized(service_client.get("/whoami", headers={"Authorization": f"Bearer {forged}"}))


@pytest.mark.parametrize("user,status", [("ana", 403), ("adam", 200)])
def test_a_valid_token_lacking_the_role_gets_403(
    service_client: TestClient, stack: LocalStack, user: str, status: int
) -> None:
    token = stack.password_token(user)
    r = service_client.get("/admin/status", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == status, r.text
    if status == 403:
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["status"] == 403


def test_a_partner_token_meant_for_referral_is_refused_by_intake(
    make_client, stack: LocalStack  # type: ignore[no-untyped-def]
) -> None:
    token = stack.client_token("partner-shelter-a", "HAVEN_PARTNER_SHELTER_A_SECRET")
    assert "intake" not in _parts(token)[1]["aud"]
    with make_client("intake") as client:
        r = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert_unauthorized(r)
    assert "not meant for this service" in r.json()["detail"]


def test_a_token_of_another_realm_is_refused(service_client: TestClient, stack: LocalStack) -> None:
    import httpx

    r = httpx.post(f"{stack.keycloak_url}/realms/master/protocol/openid-connect/token", data={
        "grant_type": "password", "client_id": "admin-cli", "username": "admin",
        "password": stack.secrets["HAVEN_KEYCLOAK_ADMIN_PASSWORD"]}, timeout=30)
    r.raise_for_status()
    token = r.json()["access_token"]
    assert _parts(token)[1]["iss"].endswith("/realms/master")
    assert_unauthorized(service_client.get("/whoami", headers={"Authorization": f"Bearer {token}"}))
