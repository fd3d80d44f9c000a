"""REST routes of family-notification tasks, for the enquirer's caseworkers and supervisors.

A task is visible only to its organisation (another organisation's answers 404, like a missing
one). Reads need `X-Purpose-Of-Use`. What the news is (`kind`, `candidate_id`) is shown only with
`deceased_records`: it may be a death.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from haven_shared.audit import PurposeOfUse
from haven_shared.auth import Principal, require_roles
from registry.api.dependencies import Now, Uow, caller
from registry.domain.family_notification import (
    FamilyNotificationTask,
    NotificationKind,
    NotificationState,
)
from registry.service_layer import family_notification as uc

router = APIRouter(prefix="/family-notifications", tags=["family notification"])
Notifier = Annotated[Principal, Depends(require_roles("caseworker", "supervisor"))]


class FamilyNotificationOut(BaseModel):
    """A family awaits news about one of the organisation's records."""

    id: UUID
    case_id: UUID
    record_ref: str
    state: NotificationState
    opened_at: datetime
    changed_at: datetime
    involves_minor: bool = Field(
        description="The match involves a child: tell the family with child protection, after "
                    "a best-interests assessment.")
    kind: NotificationKind | None = None
    candidate_id: UUID | None = None

    @classmethod
    def of(cls, t: FamilyNotificationTask, principal: Principal) -> FamilyNotificationOut:
        told = FamilyNotificationTask.may_see_kind(principal.roles)
        return cls(id=t.id, case_id=t.case_id, record_ref=t.record_ref, state=t.state,
                   opened_at=t.opened_at, changed_at=t.changed_at,
                   involves_minor=t.involves_minor, kind=t.kind if told else None,
                   candidate_id=t.candidate_id if told else None)


class StepIn(BaseModel):
    """The task's next state."""

    model_config = ConfigDict(extra="forbid")
    state: Literal["in-progress", "done"]


@router.get("", summary="The organisation's family-notification tasks, oldest first")
def list_tasks(principal: Notifier, uow: Uow, purpose: PurposeOfUse,
               state: Annotated[NotificationState | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               ) -> list[FamilyNotificationOut]:
    found = uc.list_tasks(uow, caller(principal), state, purpose, limit)
    return [FamilyNotificationOut.of(t, principal) for t in found]


@router.get("/{task_id}", summary="One family-notification task")
def get_task(task_id: UUID, principal: Notifier, uow: Uow, purpose: PurposeOfUse
             ) -> FamilyNotificationOut:
    return FamilyNotificationOut.of(uc.get_task(uow, task_id, caller(principal), purpose),
                                    principal)


@router.put("/{task_id}/state",
            summary="Move a task on: open → in-progress → done "
                    "(emits haven.registry.family-notification.updated.v1)")
def move_task(task_id: UUID, body: StepIn, principal: Notifier, uow: Uow, now: Now
              ) -> FamilyNotificationOut:
    task = uc.move_task(uow, task_id, NotificationState(body.state), caller(principal), now)
    return FamilyNotificationOut.of(task, principal)
