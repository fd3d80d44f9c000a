"""FastAPI dependencies: the acting person, the unit-of-work factory, the clock, idempotency,
the purpose of use.

They are `async def`: FastAPI runs a plain `def` dependency in the thread pool, one hop to a
worker thread and back per dependency and request, and these do no I/O except the audit of a
refusal, which is sent to the thread pool itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from haven_shared.audit import PURPOSE_HEADER, AuditLog, PurposeRequired, purpose_of_use
from haven_shared.auth import CurrentPrincipal
from haven_shared.errors import Forbidden
from intake.domain.access import CASE_ROLES, Actor
from intake.service_layer.audit import audit_record
from intake.service_layer.common import IdempotencyToken, UowFactory


async def current_actor(request: Request, principal: CurrentPrincipal) -> Actor:
    """The caller as the domain sees them; intake is for caseworkers and supervisors only (a
    caller without a case role is refused, and the attempt audited as `case.access`)."""
    actor = Actor(principal.subject, principal.username, principal.org, principal.roles)
    if not principal.has_any(CASE_ROLES):
        await run_in_threadpool(_record_refusal, request, actor, "case.access")
        raise Forbidden("Your role does not allow this action.")
    return actor


async def unit_of_work_factory(request: Request) -> UowFactory:
    """The factory wired in `bootstrap`."""
    factory: UowFactory = request.app.state.uow_factory
    return factory


async def clock(request: Request) -> datetime:
    """Now, from the clock wired in `bootstrap` (tests may pin it)."""
    now: Callable[[], datetime] = getattr(request.app.state, "clock", lambda: datetime.now(UTC))
    return now()


CurrentActor = Annotated[Actor, Depends(current_actor)]
Uows = Annotated[UowFactory, Depends(unit_of_work_factory)]
Now = Annotated[datetime, Depends(clock)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$"),
]


def idempotency(request: Request, key: str | None, body: BaseModel) -> IdempotencyToken | None:
    """The token for an `Idempotency-Key`: the key and a digest of path and body."""
    if key is None:
        return None
    canonical: Any = body.model_dump(mode="json")
    digest = hashlib.sha256(
        (request.url.path + "\x00" + json.dumps(canonical, sort_keys=True)).encode()
    ).hexdigest()
    return IdempotencyToken(key=key, fingerprint=digest)


def _case_ref(request: Request) -> str:
    """The case id of the path, if it is one (else a placeholder: nothing submitted is kept)."""
    raw = request.path_params.get("case_id", "")
    try:
        return str(UUID(str(raw)))
    except ValueError:
        return "unknown"


def _record_refusal(request: Request, actor: Actor, action: str) -> None:
    """Audit a request refused before any use case ran (its own transaction)."""
    audit: AuditLog = request.app.state.audit
    if "case_id" in request.path_params:
        record = audit_record(actor, action, _case_ref(request), None, "denied")
    else:
        record = audit_record(actor, action, actor.org or "unknown", None, "denied",
                              object_type="organisation")
    audit.append_committed(request.app.state.engine, record)


def read_purpose(action: str) -> Callable[..., str]:
    """Dependency: the purpose of use a read of a case needs (`X-Purpose-Of-Use`); without
    one the read is refused with 400 and the refusal is audited as `action`, denied."""

    async def dependency(request: Request, actor: CurrentActor,
                         header: Annotated[str | None, Header(alias=PURPOSE_HEADER)] = None
                         ) -> str:
        try:
            return purpose_of_use(header)
        except PurposeRequired:
            await run_in_threadpool(_record_refusal, request, actor, action)
            raise

    return dependency


async def optional_purpose(
    header: Annotated[str | None, Header(alias=PURPOSE_HEADER)] = None,
) -> str | None:
    """Dependency: the purpose of use of a write, when the caller gives one (checked like a
    read's)."""
    return None if header is None else purpose_of_use(header)


WritePurpose = Annotated[str | None, Depends(optional_purpose)]
