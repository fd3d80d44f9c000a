"""A token that is not valid yet (`nbf` in the future) is refused with 401 by every service.

Keycloak never issues such a token, so the test signs its own: it imports a throwaway realm
whose RSA signing key the test generated, points each service's verifier at that realm (the
production verification path, unchanged: JWKS fetched from Keycloak, RS256, iss/aud/exp) and
signs tokens with the private key that realm publishes. A control token signed the same way
without a future `nbf` is accepted, so the refusals are due to `nbf` alone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap as intake_app
from intake.config import Settings as IntakeSettings
from referral.bootstrap import bootstrap as referral_app
from referral.config import Settings as ReferralSettings
from registry.bootstrap import bootstrap as registry_app
from registry.config import Settings as RegistrySettings

pytestmark = pytest.mark.infra

APPS = {
    "intake": (intake_app, IntakeSettings),
    "referral": (referral_app, ReferralSettings),
    "registry": (registry_app, RegistrySettings),
}
PROBLEM = "application/problem+json"


def _admin_token(stack: LocalStack) -> str:
    r = httpx.post(
        f"{stack.keycloak_url}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": "admin",
            "password": stack.secrets["HAVEN_KEYCLOAK_ADMIN_PASSWORD"],
        },
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def test_realm(stack: LocalStack) -> Iterator[tuple[str, str, rsa.RSAPrivateKey]]:
    """(issuer, kid, private key) of a throwaway realm that signs with a key we hold."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    name = f"haven-nbf-{uuid.uuid4().hex[:8]}"
    admin = {"Authorization": f"Bearer {_admin_token(stack)}"}
    realm = {
        "realm": name,
        "enabled": True,
        "components": {
            "org.keycloak.keys.KeyProvider": [
                {
                    "name": "test-held-rsa",
                    "providerId": "rsa",
                    "config": {
                        "privateKey": [pem],
                        "priority": ["1000"],
                        "algorithm": ["RS256"],
                        "active": ["true"],
                        "enabled": ["true"],
                    },
                }
            ]
        },
    }
    r = httpx.post(f"{stack.keycloak_url}/admin/realms", json=realm, headers=admin, timeout=60)
    assert r.status_code == 201, r.text
    try:
        issuer = f"{stack.keycloak_url}/realms/{name}"
        certs = httpx.get(f"{issuer}/protocol/openid-connect/certs", timeout=30).json()
        ours = key.public_key().public_numbers().n
        kid = next(
            k["kid"]
            for k in certs["keys"]
            if k.get("alg") == "RS256" and jwt.PyJWK(k).key.public_numbers().n == ours
        )
        yield issuer, kid, key
    finally:
        httpx.delete(
            f"{stack.keycloak_url}/admin/realms/{name}",
            headers={"Authorization": f"Bearer {_admin_token(stack)}"},
            timeout=60,
        )


@pytest.fixture(scope="module", params=sorted(APPS))
def client(
    request: pytest.FixtureRequest, stack: LocalStack, test_realm: tuple[str, str, Any]
) -> TestClient:
    """A service trusting the throwaway realm, with the production default leeway."""
    make_app, settings_cls = APPS[request.param]
    settings = settings_cls(
        environment="test",
        database_url=stack.database_url(request.param),
        kafka_bootstrap=stack.kafka_bootstrap,
        keycloak_issuer=test_realm[0],
    )
    return TestClient(make_app(settings))


def _token(realm: tuple[str, str, Any], audience: str, **claims: Any) -> str:
    issuer, kid, key = realm
    now = int(time.time())
    body = {
        "iss": issuer,
        "aud": [audience],
        "sub": str(uuid.uuid4()),
        "iat": now - 5,
        "exp": now + 3600,
        "preferred_username": "nbf-probe",
        "org": "ngo-a",
        "realm_access": {"roles": ["caseworker"]},
        "azp": "haven-cli",
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def _whoami(client: TestClient, token: str) -> httpx.Response:
    return client.get("/whoami", headers={"Authorization": f"Bearer {token}"})


def test_a_token_signed_with_the_realm_key_is_accepted(
    client: TestClient, test_realm: tuple[str, str, Any]
) -> None:
    audience = client.app.state.settings.audience  # type: ignore[attr-defined]
    for claims in ({}, {"nbf": int(time.time()) - 10}):
        r = _whoami(client, _token(test_realm, audience, **claims))
        assert r.status_code == 200, r.text
        assert r.json()["username"] == "nbf-probe"


@pytest.mark.parametrize("ahead", [31 + 60, 3600, 86_400 * 365])
def test_a_token_not_valid_yet_is_refused(
    client: TestClient, test_realm: tuple[str, str, Any], ahead: int
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    assert ahead > settings.jwt_leeway_seconds
    token = _token(test_realm, settings.audience, nbf=int(time.time()) + ahead)
    r = _whoami(client, token)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["status"] == 401
    assert "nbf-probe" not in r.text


def test_a_not_yet_valid_token_is_refused_on_a_business_route(
    client: TestClient, test_realm: tuple[str, str, Any]
) -> None:
    """Not only `/whoami`: a route of the service itself refuses it before doing anything."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    path = {"intake": "/cases", "referral": "/deadlines", "registry": "/directory/services"}
    token = _token(
        test_realm,
        settings.audience,
        nbf=int(time.time()) + 3600,
        realm_access={"roles": ["caseworker", "directory_admin"]},
    )
    r = client.get(path[settings.service_name], headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
