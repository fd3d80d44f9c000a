"""Audit entries of the registry: who did what to which candidate, record or directory object.

Entries name objects by id only: a match candidate's id, a person index entry's pseudonymous
reference (`intake:<kind>:<intake record id>`), a directory object's id; never a name, a score
or a reason. The person index's consumer acts as the system actor `registry-person-index`.

A use case opens its unit of work with `audited(...)` (or queues entries with `uow.audit`):
success entries are appended by the commit, in the action's transaction; a refused attempt is
recorded as `denied` and a broken rule as `failed`, each in a transaction of its own after the
action's was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from haven_shared.audit import AuditRecord, current_trace_id
from haven_shared.uow import UnitOfWork
from registry.domain.directory import DirectoryError
from registry.domain.family_notification import NotificationError
from registry.domain.match_review import ReviewError, ReviewNotPermitted
from registry.service_layer.errors import NotFoundError, NotYourService, UseCaseError
from registry.service_layer.unit_of_work import RegistryUnitOfWork

CANDIDATE = "match-candidate"
PERSON_RECORD = "person-record"
ORGANISATION = "organisation"
SERVICE = "provider-service"
TASK = "family-notification-task"
TRACING_PURPOSE = "tracing"


class Who(Protocol):
    """Whoever acts: a user's subject, organisation and roles (a principal, a reviewer)."""

    @property
    def subject(self) -> str: ...
    @property
    def org(self) -> str: ...
    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class Caller:
    """A user acting through the API, as the use cases see them."""

    subject: str
    org: str
    roles: frozenset[str]


#: The person index's consumer: it indexes and proposes on intake's events, for tracing.
SYSTEM = Caller(subject="registry-person-index", org="registry", roles=frozenset({"system"}))


def person_ref(ref: str) -> str:
    """An entry's reference as an audit object id (`intake/found-person/<id>` →
    `intake:found-person:<id>`)."""
    return ref.replace("/", ":")


def record(who: Who, action: str, object_type: str, object_id: UUID | str, *,
           purpose: str | None = None, outcome: str = "success") -> AuditRecord:
    """The entry of `who` doing `action` to an object, under the current trace."""
    return AuditRecord.model_validate({
        "actor": who.subject, "roles": tuple(sorted(who.roles)),
        "organisation": who.org or "unknown", "purpose": purpose, "action": action,
        "object_type": object_type, "object_id": str(object_id), "outcome": outcome,
        "trace_id": current_trace_id(),
    })


def queue(uow: UnitOfWork, entry: AuditRecord) -> None:
    """Queue an entry on the unit of work (a plain one, in unit tests, keeps none)."""
    if isinstance(uow, RegistryUnitOfWork):
        uow.audit(entry)


@contextmanager
def audited(uow: UnitOfWork, who: Who | None, action: str, object_type: str,
            object_id: UUID | str | None, purpose: str | None = None) -> Iterator[UnitOfWork]:
    """`uow`, entered; its commit records `action` on the object (None: the use case queues
    its own entries). Refusals are recorded `denied` and broken rules `failed`, apart."""
    if who is None:
        with uow:
            yield uow
        return
    try:
        with uow:
            if object_id is not None:
                queue(uow, record(who, action, object_type, object_id, purpose=purpose))
            yield uow
    except (ReviewNotPermitted, NotYourService, ReviewError, DirectoryError,
            NotificationError, UseCaseError) as exc:
        # Hidden candidates and other organisations' tasks answer "not found": a refusal too.
        denied = isinstance(exc, ReviewNotPermitted | NotYourService) or (
            isinstance(exc, NotFoundError) and object_type in (CANDIDATE, TASK))
        _apart(uow, record(who, action, object_type, object_id or "new", purpose=purpose,
                           outcome="denied" if denied else "failed"))
        raise


def _apart(uow: UnitOfWork, entry: AuditRecord) -> None:
    if isinstance(uow, RegistryUnitOfWork):
        uow.record_apart(entry)
