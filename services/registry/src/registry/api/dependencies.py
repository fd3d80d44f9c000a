"""FastAPI dependencies of the registry's routes: the unit of work, the clock, the caller as
the use cases see them, and the audit of requests refused before any use case ran."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from haven_shared.audit import AuditLog
from haven_shared.auth import Principal
from haven_shared.uow import UnitOfWork
from registry.service_layer import audit
from registry.service_layer.audit import Caller


def _uow(request: Request) -> UnitOfWork:
    factory: Callable[[], UnitOfWork] = request.app.state.unit_of_work
    return factory()


def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


Uow = Annotated[UnitOfWork, Depends(_uow)]
Now = Annotated[datetime, Depends(_now)]


def caller(principal: Principal) -> Caller:
    """The user as the use cases (and their audit entries) see them."""
    return Caller(subject=principal.subject, org=principal.org, roles=principal.roles)


def record_refusal(request: Request, principal: Principal, action: str, object_type: str,
                   object_id: str) -> None:
    """Audit a request refused before its use case ran, in a transaction of its own."""
    log: AuditLog | None = getattr(request.app.state, "audit", None)
    if log is not None:
        log.append_committed(request.app.state.engine, audit.record(
            caller(principal), action, object_type, object_id, outcome="denied"))
