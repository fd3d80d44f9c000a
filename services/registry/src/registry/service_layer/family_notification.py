"""Use cases of family notification: a confirmation opens the tasks; the enquirer's
caseworkers list them and move them on. Each runs in the unit of work it is given."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from haven_shared.uow import UnitOfWork
from registry.adapters.notification_repository import FamilyNotificationRepository
from registry.domain.family_notification import (
    FamilyNotificationTask,
    NotificationKind,
    NotificationState,
    enquirers,
)
from registry.domain.match_review import MatchCandidate
from registry.service_layer import audit
from registry.service_layer.audit import Who, audited
from registry.service_layer.errors import NotFoundError


def open_for(uow: UnitOfWork, candidate: MatchCandidate, who: Who, now: datetime
             ) -> list[FamilyNotificationTask]:
    """Open the family-notification tasks of a just-confirmed candidate, in the caller's unit
    of work (which commits): one per enquirer record of the pair (see `enquirers`)."""
    repo = FamilyNotificationRepository(uow.session)
    kind = (NotificationKind.IDENTIFICATION if candidate.involves_remains
            else NotificationKind.FAMILY_LINK)
    opened = []
    for record in enquirers(repo.records([candidate.record_ref, candidate.candidate_ref])):
        task = FamilyNotificationTask.open(uuid4(), candidate.id, kind, record.case_id,
                                           record.ref, record.organisation_id, now,
                                           involves_minor=candidate.involves_minor)
        repo.save(task)
        uow.track(task)
        audit.queue(uow, audit.record(who, "family-notification.open", audit.TASK, task.id))
        opened.append(task)
    return opened


def list_tasks(uow: UnitOfWork, who: Who, state: NotificationState | None, purpose: str,
               limit: int = 100) -> list[FamilyNotificationTask]:
    """The caller's organisation's tasks (to caseworkers and supervisors), oldest first; each
    one shown is audited."""
    with audited(uow, who, "family-notification.list", audit.TASK, None, purpose):
        found = FamilyNotificationRepository(uow.session).of_organisation(who.org, state, limit)
        shown = [t for t in found if t.visible_to(who.org, who.roles)]
        for task in shown:
            audit.queue(uow, audit.record(who, "family-notification.list", audit.TASK,
                                          task.id, purpose=purpose))
        uow.commit()
    return shown


def get_task(uow: UnitOfWork, task_id: UUID, who: Who, purpose: str
             ) -> FamilyNotificationTask:
    """One task of the caller's organisation (another organisation's is not found)."""
    with audited(uow, who, "family-notification.read", audit.TASK, task_id, purpose):
        task = _visible(FamilyNotificationRepository(uow.session), task_id, who)
        uow.commit()
    return task


def move_task(uow: UnitOfWork, task_id: UUID, state: NotificationState, who: Who,
              now: datetime) -> FamilyNotificationTask:
    """Take the task's next step (in progress, then done); emits the update for intake."""
    with audited(uow, who, f"family-notification.{state.value}", audit.TASK, task_id):
        repo = FamilyNotificationRepository(uow.session)
        task = _visible(repo, task_id, who, lock=True)
        task.move_to(state, now)
        repo.save(task)
        uow.track(task)
        uow.commit()
    return task


def _visible(repo: FamilyNotificationRepository, task_id: UUID, who: Who, *,
             lock: bool = False) -> FamilyNotificationTask:
    task = repo.get(task_id, for_update=lock)
    if task is None or not task.visible_to(who.org, who.roles):
        raise NotFoundError("The family-notification task does not exist.")
    return task
