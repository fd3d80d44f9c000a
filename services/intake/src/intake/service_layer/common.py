"""What the handlers share: visibility of cases, idempotency keys, the clock tolerance."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from intake.domain.access import Actor, may_see
from intake.domain.case import Case
from intake.domain.errors import CaseNotFound, IdempotencyConflict
from intake.service_layer.unit_of_work import IntakeUnitOfWork

T = TypeVar("T")
UowFactory = Callable[[], IntakeUnitOfWork]
# "In the future" is judged against the latest calendar date anywhere on Earth (UTC+14), so a
# record filed just after midnight in the Pacific is not refused.
_EARLIEST_ZONE_AHEAD = timedelta(hours=14)


def latest_today(now: datetime) -> date:
    """The latest date it currently is somewhere on Earth."""
    return (now + _EARLIEST_ZONE_AHEAD).date()


@dataclass(frozen=True)
class IdempotencyToken:
    """An `Idempotency-Key` and the fingerprint of the request it came with."""

    key: str
    fingerprint: str

    def scope(self, actor: Actor) -> str:
        """Keys are per caller: one user's key never collides with another's."""
        return hashlib.sha256(f"{actor.subject}\x00{self.key}".encode()).hexdigest()


def visible_case(uow: IntakeUnitOfWork, actor: Actor, case_id: UUID, *,
                 for_update: bool = False) -> Case:
    """The case if the actor may see it; `CaseNotFound` otherwise (existence not revealed).

    Access is decided on the clear ownership facts first, so nothing personal is decrypted for
    a caller who may not see the case.
    """
    owner = uow.cases.ownership(case_id)
    if owner is None or not may_see(actor, *owner):
        raise CaseNotFound("No such case.")
    case = uow.cases.get(case_id, for_update=for_update)
    if case is None or not may_see(actor, case.organisation_id, case.is_minor):
        raise CaseNotFound("No such case.")
    return case


def replayed(uow: IntakeUnitOfWork, actor: Actor, token: IdempotencyToken | None
             ) -> tuple[UUID, UUID] | None:
    """(case id, resource id) of an earlier request with this key, or None.

    The same key with a different request is a conflict, not a replay.
    """
    if token is None:
        return None
    row = uow.idempotency.get(token.scope(actor))
    if row is None:
        return None
    if row.fingerprint != token.fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was used for a different request.")
    return row.case_id, row.resource_id


def remember(uow: IntakeUnitOfWork, actor: Actor, token: IdempotencyToken | None,
             case_id: UUID, resource_id: UUID) -> None:
    """Record the request's result under its key, in the same transaction."""
    if token is not None:
        uow.idempotency.add(token.scope(actor), token.fingerprint, case_id, resource_id)


def retry_once_on_race(fn: Callable[[], T]) -> T:
    """Run `fn`; if a concurrent request with the same idempotency key won the race (unique
    violation at commit), run it again, which then replays the winner's result."""
    try:
        return fn()
    except IntegrityError:
        return fn()
