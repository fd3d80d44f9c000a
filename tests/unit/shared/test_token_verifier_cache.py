"""The token verifier checks a token once and takes it as verified until shortly before it
expires (and for at most a minute); invalid tokens are never remembered."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from haven_shared import auth
from haven_shared.auth import TokenVerifier
from haven_shared.errors import Unauthorized
from haven_shared.settings import ServiceSettings

ISSUER = "http://127.0.0.1:1/realms/haven"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class CountingKeys:
    """Stands for the JWKS client: hands out the public key and counts the lookups."""

    def __init__(self) -> None:
        self.lookups = 0

    def get_signing_key_from_jwt(self, _token: str) -> Any:
        self.lookups += 1
        return SimpleNamespace(key=KEY.public_key())


def token(exp_in: float = 300, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "intake", "sub": "u-1", "iat": now, "exp": now + exp_in,
            "org": "ngo-a", "preferred_username": "ana",
            "realm_access": {"roles": ["caseworker"]}, **claims}
    return jwt.encode(body, KEY, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def verifier() -> tuple[TokenVerifier, CountingKeys]:
    v = TokenVerifier(ServiceSettings(service_name="intake", keycloak_issuer=ISSUER,
                                      audience="intake", jwt_leeway_seconds=0))
    keys = CountingKeys()
    v._jwks = keys  # type: ignore[assignment]
    return v, keys


def test_a_token_is_checked_once_while_it_is_valid(verifier) -> None:  # type: ignore[no-untyped-def]
    v, keys = verifier
    t = token()
    first = v.verify(t)
    assert v.verify(t) == first and first.roles == frozenset({"caseworker"})
    assert keys.lookups == 1
    assert v.keys_cached_for(t)


def test_a_remembered_token_is_checked_again_after_a_minute(  # type: ignore[no-untyped-def]
    verifier, monkeypatch
) -> None:
    v, keys = verifier
    t = token()
    v.verify(t)
    later = time.time() + auth.VERIFIED_CACHE_SECONDS + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    v.verify(t)
    assert keys.lookups == 2


def test_a_token_is_not_taken_as_verified_past_its_expiry(  # type: ignore[no-untyped-def]
    verifier, monkeypatch
) -> None:
    v, _ = verifier
    t = token(exp_in=5)
    v.verify(t)
    later = time.time() + 6
    monkeypatch.setattr(auth.time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _frozen_datetime(later))
    with pytest.raises(Unauthorized, match="expired"):
        v.verify(t)


def test_refused_tokens_are_not_remembered(verifier) -> None:  # type: ignore[no-untyped-def]
    v, keys = verifier
    wrong = token(aud="registry")
    for _ in range(2):
        with pytest.raises(Unauthorized):
            v.verify(wrong)
    assert keys.lookups == 2


def test_the_cache_is_bounded(verifier, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    v, _ = verifier
    monkeypatch.setattr(auth, "VERIFIED_CACHE_SIZE", 3)
    tokens = [token(jti=str(i)) for i in range(5)]
    for t in tokens:
        v.verify(t)
    assert list(v._verified) == tokens[2:]


def _frozen_datetime(at: float) -> Any:
    from datetime import UTC, datetime

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.fromtimestamp(at, tz or UTC)

    return Frozen
