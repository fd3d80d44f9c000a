"""Legal clocks: the reflection period from intake's presumed-victim decisions, deadlines a
caseworker records (residence-permit expiry), alerts at the configured offsets, and the view of
upcoming deadlines. Recording a deadline, listing them and each alert are audited."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from haven_shared.audit import AuditLog, append_at_commit
from haven_shared.events.intake import VictimPresumed
from haven_shared.events.model import Event
from haven_shared.events.referral import DeadlineApproaching, DeadlineBreached
from haven_shared.uow import UnitOfWork
from referral.adapters.deadlines import DeadlineRepository
from referral.domain.deadlines import (
    Alert,
    Deadline,
    DeadlineKind,
    due_alerts,
    reflection_period_end,
)
from referral.service_layer.audit import ORGANISATION, actor_record, require, system_record
from referral.service_layer.referrals import Actor, UowFactory


def reflection_handler(reflection_days: int, audit: AuditLog | None = None
                       ) -> Callable[[VictimPresumed, UnitOfWork], None]:
    """Inbox handler: a presumed victim's recovery and reflection period starts (never commits;
    audited with `audit`, or the unit of work's own log)."""

    def handle(event: VictimPresumed, uow: UnitOfWork) -> None:
        deadline = Deadline(
            deadline_id=f"{DeadlineKind.REFLECTION_PERIOD_END.value}:{event.case_id}",
            case_id=str(event.case_id), kind=DeadlineKind.REFLECTION_PERIOD_END,
            due=reflection_period_end(event.decided_at, reflection_days), caseworker="")
        DeadlineRepository(uow.session).put(deadline, event.organisation_id)
        log = require(audit or getattr(uow, "audit_log", None))
        append_at_commit(log, uow.session, system_record(
            "victim-presumed", event.organisation_id, "deadline.record", event.case_id))

    return handle


def record_deadline(uows: UowFactory, actor: Actor, case_id: uuid.UUID, kind: DeadlineKind,
                    due: datetime) -> Deadline:
    """A caseworker records a deadline of a case of their organisation (e.g. a permit expiry)."""
    deadline = Deadline(f"{kind.value}:{case_id}", str(case_id), kind, due, actor.username)
    with uows() as uow:
        DeadlineRepository(uow.session).put(deadline, actor.org)
        uow.audit(actor_record(actor, "deadline.record", case_id))
        uow.commit()
    return deadline


def upcoming(uows: UowFactory, actor: Actor, now: datetime) -> list[Deadline]:
    """The caller's organisation's deadlines not yet passed, soonest first (audited as a
    listing of the organisation's cases' deadlines)."""
    with uows() as uow:
        found = [d for d, _ in DeadlineRepository(uow.session).of_organisation(actor.org, now)]
        uow.audit(actor_record(actor, "deadline.list", actor.org or "unknown",
                               object_type=ORGANISATION))
        uow.commit()
    return found


def _event(alert: Alert, organisation_id: str) -> Event:
    d = alert.deadline
    common = {"case_id": uuid.UUID(d.case_id), "organisation_id": organisation_id,
              "deadline_id": d.deadline_id, "kind": d.kind.value, "due": d.due}
    if alert.kind == "breached":
        return DeadlineBreached(**common)
    return DeadlineApproaching(**common, offset_hours=int(alert.offset.total_seconds() // 3600))


def alert_tick(uows: UowFactory, now: datetime, offsets: tuple[timedelta, ...]) -> int:
    """Publish the alerts due at `now` (each once); returns how many."""
    with uows() as uow:
        repo = DeadlineRepository(uow.session)
        known = repo.all()
        orgs = {d.deadline_id: org for d, org in known}
        alerts = due_alerts([d for d, _ in known], now, offsets, repo.sent())
        for alert in alerts:
            repo.mark_sent(alert.key, alert.deadline.deadline_id)
            uow.emit(_event(alert, orgs[alert.deadline.deadline_id]))
            uow.audit(system_record("referral-clock", orgs[alert.deadline.deadline_id],
                                    f"deadline.{alert.kind}", alert.deadline.case_id))
        uow.commit()
    return len(alerts)
