"""FastAPI dependencies: the acting person and role, the handlers' dependencies, the clock, the
purpose of use of a read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from haven_shared.audit import PURPOSE_HEADER, PurposeRequired, purpose_of_use
from haven_shared.auth import Principal, require_roles
from referral.service_layer.audit import CASE, REFERRAL, actor_record, require
from referral.service_layer.referrals import Actor, Deps, IdempotencyToken


def _actor(principal: Principal) -> Actor:
    return Actor(username=principal.username, org=principal.org, subject=principal.subject,
                 roles=tuple(sorted(principal.roles)))


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


def _path_ref(request: Request) -> tuple[str, str]:
    """The object a refused request named: the path's case or referral id (else "unknown":
    nothing the caller submitted is kept)."""
    for name, kind in (("case_id", CASE), ("referral_id", REFERRAL)):
        if name in request.path_params:
            try:
                return kind, str(UUID(str(request.path_params[name])))
            except ValueError:
                return kind, "unknown"
    return CASE, "unknown"


def read_purpose(action: str, role: Callable[..., Actor]) -> Callable[..., str]:
    """Dependency: the purpose of use a read of a case's referrals needs (`X-Purpose-Of-Use`);
    without one the read is refused with 400 and the refusal audited as `action`, denied."""

    # `role` is a local: a default, not an annotation (annotations are strings here).
    def dependency(request: Request, actor: Actor = Depends(role),  # noqa: B008
                   header: Annotated[str | None, Header(alias=PURPOSE_HEADER)] = None) -> str:
        try:
            return purpose_of_use(header)
        except PurposeRequired:
            kind, object_id = _path_ref(request)
            require(request.app.state.referral_deps.audit).append_committed(
                request.app.state.engine,
                actor_record(actor, action, object_id, None, "denied", kind))
            raise

    return dependency


def optional_purpose(
    header: Annotated[str | None, Header(alias=PURPOSE_HEADER)] = None,
) -> str | None:
    """Dependency: the purpose of use of a write, when the caller gives one."""
    return None if header is None else purpose_of_use(header)


WritePurpose = Annotated[str | None, Depends(optional_purpose)]
