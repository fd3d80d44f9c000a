"""`GET /internal/matching-keys/{key_id}`: the registry fetches a record subject's matching key.

A service-to-service call, not a user's: it is authenticated with an HMAC of the key id and a
timestamp under the secret intake and registry share (`INTAKE_MATCHING_KEY`); a user's bearer
token, whatever its roles, is refused, and so is a signature older than `MAX_SKEW` seconds.
404 for a key id that is no tracing record's subject, 410 once the subject was erased.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel

from haven_shared.errors import Unauthorized
from intake.api.dependencies import Uows
from intake.service_layer import matching_keys as handlers

# Not in the OpenAPI document: no user, whatever their realm role, may call it.
router = APIRouter(prefix="/internal", tags=["service-to-service"], include_in_schema=False)
SCHEME = "HavenMatching"
MAX_SKEW = 60


def signature(secret: bytes, key_id: str, timestamp: int) -> str:
    """The HMAC-SHA256 (hex) a caller sends for `key_id` at `timestamp` (Unix seconds)."""
    return hmac.new(secret, f"{timestamp}\n{key_id}".encode(), hashlib.sha256).hexdigest()


def authorization(secret: bytes, key_id: str, timestamp: int | None = None) -> str:
    """The `Authorization` header value for fetching `key_id`'s matching key."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"{SCHEME} {ts}.{signature(secret, key_id, ts)}"


def verify_caller(
    request: Request,
    key_id: str,
    header: Annotated[str | None, Header(alias="Authorization")] = None,
) -> None:
    """401 unless the request carries a fresh, valid signature for this key id."""
    secret: bytes = request.app.state.matching_secret
    scheme, _, value = (header or "").partition(" ")
    ts_text, _, sig = value.partition(".")
    if scheme != SCHEME or not ts_text.isdigit() or not sig:
        raise Unauthorized("A service signature is required.")
    ts = int(ts_text)
    if abs(time.time() - ts) > MAX_SKEW:
        raise Unauthorized("The service signature has expired.")
    if not hmac.compare_digest(sig, signature(secret, key_id, ts)):
        raise Unauthorized("The service signature is invalid.")


class MatchingKeyPublic(BaseModel):
    """A record subject's matching key (base64url)."""

    key_id: str
    key: str


KeyId = Annotated[str, Path(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


@router.get(
    "/matching-keys/{key_id}",
    response_model=MatchingKeyPublic,
    dependencies=[Depends(verify_caller)],
)
def get_matching_key(key_id: KeyId, uows: Uows) -> MatchingKeyPublic:
    """The matching key of a tracing record's subject, for the registry's person index."""
    key = handlers.matching_key(uows, key_id)
    return MatchingKeyPublic(key_id=key_id, key=base64.urlsafe_b64encode(key).rstrip(b"=").decode())
