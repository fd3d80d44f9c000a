"""Audit entries of intake's use cases: who did what to which case, for what purpose.

A handler opens its unit of work with `audited(...)`: the success entry is queued at once and
appended, last, by `uow.commit()` in the action's own transaction (a rolled-back action leaves
none). A refused attempt (a case the actor may not see, a permission they lack) is recorded as
`denied` and any other domain failure as `failed`, each in a transaction of its own after the
action's was rolled back. Entries hold ids only: object references are case ids, never names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from haven_shared.audit import AuditRecord, current_trace_id
from haven_shared.crypto import SubjectErased
from intake.domain.access import Actor
from intake.domain.errors import CaseNotFound, DomainError, NotPermitted
from intake.service_layer.common import UowFactory
from intake.service_layer.unit_of_work import IntakeUnitOfWork

CASE = "case"


def audit_record(actor: Actor, action: str, object_id: UUID | str, purpose: str | None,
                 outcome: str = "success", object_type: str = CASE) -> AuditRecord:
    """The entry of `actor` doing `action` to an object (a case unless said otherwise)."""
    return AuditRecord.model_validate({
        "actor": actor.subject, "roles": tuple(sorted(actor.roles)),
        "organisation": actor.org or "unknown", "purpose": purpose, "action": action,
        "object_type": object_type, "object_id": str(object_id), "outcome": outcome,
        "trace_id": current_trace_id(),
    })


@contextmanager
def audited(uows: UowFactory, actor: Actor, action: str, object_id: UUID | None,
            purpose: str | None = None) -> Iterator[IntakeUnitOfWork]:
    """A unit of work whose commit records `action` on case `object_id` (None: the handler
    queues its own entries with `uow.audit`); refusals and failures are recorded apart."""
    uow = uows()
    try:
        with uow:
            if object_id is not None:
                uow.audit(audit_record(actor, action, object_id, purpose))
            yield uow
    except (CaseNotFound, NotPermitted):
        uow.record_apart(audit_record(actor, action, object_id or "new", purpose, "denied"))
        raise
    except (DomainError, SubjectErased):
        uow.record_apart(audit_record(actor, action, object_id or "new", purpose, "failed"))
        raise
