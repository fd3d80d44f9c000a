"""Bearer-token authentication against the Keycloak realm, and role checks.

Each service validates tokens itself: RS256 only, signature checked against the realm's JWKS
(fetched once and cached, refetched on an unknown key id), and `iss`, `aud`, `exp` always
required and checked. A valid token becomes a `Principal`; routes declare the roles they need.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


class TokenVerifier:
    """Verifies access tokens of the realm for one audience, with a cached JWKS."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.issuer = settings.keycloak_issuer
        self.audience = settings.audience
        self.leeway = settings.jwt_leeway_seconds
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

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; `Unauthorized` for any invalid one."""
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
        return principal_from_claims(claims)

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


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the caller's principal, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """Dependency factory: the caller must hold at least one of `roles`, else 403."""
    unknown = set(roles) - HAVEN_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(roles):
            raise Forbidden("Your role does not allow this action.")
        return principal

    return check
