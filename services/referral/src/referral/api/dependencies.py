"""FastAPI dependencies: the acting person and role, the handlers' dependencies, the clock."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from haven_shared.auth import Principal, require_roles
from referral.service_layer.referrals import Actor, Deps, IdempotencyToken


def _actor(principal: Principal) -> Actor:
    return Actor(username=principal.username, org=principal.org)


def referrer(principal: Annotated[Principal, Depends(require_roles("caseworker", "supervisor"))]
             ) -> Actor:
    """A caseworker or supervisor of the referring organisation."""
    return _actor(principal)


def partner(principal: Annotated[Principal, Depends(require_roles("provider_staff"))]) -> Actor:
    """Staff of a provider organisation."""
    return _actor(principal)


def deps(request: Request) -> Deps:
    """The handlers' dependencies wired in `bootstrap`."""
    wired: Deps = request.app.state.referral_deps
    return wired


def clock(request: Request) -> datetime:
    """Now, from the clock wired in `bootstrap` (tests may pin it)."""
    now: Callable[[], datetime] = getattr(request.app.state, "clock", lambda: datetime.now(UTC))
    return now()


Referrer = Annotated[Actor, Depends(referrer)]
Partner = Annotated[Actor, Depends(partner)]
Handlers = Annotated[Deps, Depends(deps)]
Now = Annotated[datetime, Depends(clock)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$"),
]


def idempotency(key: str | None, body: BaseModel) -> IdempotencyToken | None:
    """The token of an `Idempotency-Key`: the key and a digest of the request body."""
    if key is None:
        return None
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True)
    return IdempotencyToken(key, hashlib.sha256(canonical.encode()).hexdigest())
