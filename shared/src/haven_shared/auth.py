"""Bearer-token authentication against the Keycloak realm, and role checks.

Each service validates tokens itself: RS256 only, signature checked against the realm's JWKS
(fetched once and cached, refetched on an unknown key id), and `iss`, `aud`, `exp` always
required and checked. A valid token becomes a `Principal`; routes declare the roles they need.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from haven_shared.errors import Forbidden, ServiceUnavailable, Unauthorized
from haven_shared.settings import ServiceSettings

HAVEN_ROLES = frozenset(
    {
        "caseworker",
        "supervisor",
        "tracing_officer",
        "forensic_reviewer",
        "provider_staff",
        "directory_admin",
        "auditor",
        "admin",
        "child_protection",
        "deceased_records",
    }
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user (or partner client), their organisation and their Haven roles."""

    subject: str
    username: str
    org: str
    roles: frozenset[str]
    client_id: str

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


#: How long a verified token is taken as verified without checking it again (and never past
#: its `exp`), and how many such tokens are kept.
VERIFIED_CACHE_SECONDS = 60.0
VERIFIED_CACHE_SIZE = 4096


class TokenVerifier:
    """Verifies access tokens of the realm for one audience, with a cached JWKS."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.issuer = settings.keycloak_issuer
        self.audience = settings.audience
        self.leeway = settings.jwt_leeway_seconds
        # Tokens already verified (a client sends the same token with every request until it
        # expires): token -> (principal, verified until), bounded, oldest dropped first.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._verified_lock = threading.Lock()
        self._jwks = jwt.PyJWKClient(
            settings.jwks_url,
            cache_jwk_set=True,
            lifespan=settings.jwks_cache_seconds,
            timeout=int(max(1, settings.http_timeout_seconds)),
        )

    def signing_key(self, token: str) -> Any:
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as e:
            raise ServiceUnavailable("The identity provider cannot be reached.") from e
        except (jwt.PyJWKClientError, jwt.DecodeError) as e:
            raise Unauthorized("The token's signing key is unknown.") from e

    def keys_cached_for(self, token: str) -> bool:
        """Whether `verify(token)` can run without fetching the JWKS (verified recently, its
        key is cached, or it is refused before any key is needed): CPU work only."""
        if self._recently_verified(token) is not None:
            return True
        cache = getattr(self._jwks, "jwk_set_cache", None)
        jwk_set = cache.get() if cache is not None else None
        if jwk_set is None:
            return False
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return True  # malformed: refused without a key
        return any(k.key_id == kid for k in jwk_set.keys)

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; `Unauthorized` for any invalid one.

        A token verified before is not decoded and checked again while it is still valid, for
        at most `VERIFIED_CACHE_SECONDS` (parsing and checking a Keycloak token is most of the
        CPU an authenticated request costs here): its signature, issuer and audience cannot
        change, and it is dropped before its `exp`. A key withdrawn from the realm's JWKS
        meanwhile stops its tokens within that time, as the cached JWKS does."""
        principal = self._recently_verified(token)
        if principal is not None:
            return principal
        claims = self._claims(token)
        principal = principal_from_claims(claims)
        self._remember(token, principal, float(claims["exp"]))
        return principal

    def _recently_verified(self, token: str) -> Principal | None:
        with self._verified_lock:
            hit = self._verified.get(token)
        if hit is None or hit[1] <= time.time():
            return None
        return hit[0]

    def _remember(self, token: str, principal: Principal, expires: float) -> None:
        until = min(expires, time.time() + VERIFIED_CACHE_SECONDS)
        with self._verified_lock:
            self._verified[token] = (principal, until)
            self._verified.move_to_end(token)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise Unauthorized("The token is malformed.") from e
        if header.get("alg") != "RS256":
            raise Unauthorized("The token's algorithm is not accepted.")
        key = self.signing_key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as e:
            raise Unauthorized("The token has expired.") from e
        except jwt.InvalidAudienceError as e:
            raise Unauthorized("The token is not meant for this service.") from e
        except jwt.MissingRequiredClaimError as e:
            if e.claim == "aud":
                raise Unauthorized("The token is not meant for this service.") from e
            raise Unauthorized(f"The token lacks the '{e.claim}' claim.") from e
        except jwt.InvalidIssuerError as e:
            raise Unauthorized("The token was issued by an unknown issuer.") from e
        except jwt.PyJWTError as e:
            raise Unauthorized("The token is invalid.") from e
        return claims

    def check_reachable(self) -> None:
        """Raise ServiceUnavailable when the realm's keys cannot be fetched."""
        try:
            self._jwks.get_jwk_set(refresh=False)
        except jwt.PyJWKClientError as e:
            raise ServiceUnavailable("The identity provider cannot be reached.") from e


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    roles = frozenset(claims.get("realm_access", {}).get("roles", [])) & HAVEN_ROLES
    org = claims.get("org")
    if not isinstance(org, str) or not org:
        raise Unauthorized("The token carries no organisation.")
    return Principal(
        subject=str(claims["sub"]),
        username=str(claims.get("preferred_username", claims["sub"])),
        org=org,
        roles=roles,
        client_id=str(claims.get("azp", "")),
    )


_bearer = HTTPBearer(auto_error=False)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the caller's principal, or 401.

    Async, so that the check costs no hop to a worker thread and back: with the realm's key
    cached it is a signature check (CPU only, well under a millisecond) and runs on the event
    loop; a check that may have to fetch the JWKS (first request, key rotated, cache expired)
    runs in the thread pool so the fetch never blocks the loop."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.")
    verifier: TokenVerifier = request.app.state.token_verifier
    token = credentials.credentials
    cached = getattr(verifier, "keys_cached_for", None)
    if cached is not None and cached(token):
        principal = verifier.verify(token)
    else:
        principal = await run_in_threadpool(verifier.verify, token)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """Dependency factory: the caller must hold at least one of `roles`, else 403."""
    unknown = set(roles) - HAVEN_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    async def check(principal: CurrentPrincipal) -> Principal:  # no I/O: no worker thread
        if not principal.has_any(roles):
            raise Forbidden("Your role does not allow this action.")
        return principal

    return check
