"""Use cases on the case itself: open, read, move through the workflow, assign."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from haven_shared.crypto import new_subject_key_id
from haven_shared.events.intake import CaseStatusChanged
from haven_shared.events.types import CaseOpened
from intake.domain.access import CASE_ROLES, CHILD_PROTECTION, Actor, require_may_file_minor
from intake.domain.case import Case, CaseKind, CaseStatus, PersonInNeed, RiskLevel
from intake.domain.errors import InvalidField
from intake.domain.validation import is_minor
from intake.service_layer.audit import audit_record, audited
from intake.service_layer.common import (
    IdempotencyToken,
    UowFactory,
    latest_today,
    remember,
    replayed,
    retry_once_on_race,
    visible_case,
)


@dataclass(frozen=True)
class CaseSummary:
    """A case in a list: workflow facts, no personal data."""

    id: UUID
    kind: CaseKind
    status: CaseStatus
    risk_level: RiskLevel
    is_minor: bool
    assignees: list[str]
    opened_at: datetime


@dataclass(frozen=True)
class OpenCase:
    """Command: open a case for a person in need."""

    kind: CaseKind
    risk_level: RiskLevel
    person: PersonInNeed
    minor_declared: bool = False


def open_case(uows: UowFactory, actor: Actor, cmd: OpenCase, now: datetime,
              token: IdempotencyToken | None = None, purpose: str | None = None) -> Case:
    """Open a case owned by the actor's organisation; emits `case.opened`."""

    def run() -> Case:
        with audited(uows, actor, "case.open", None, purpose) as uow:
            earlier = replayed(uow, actor, token)
            if earlier is not None:
                case = visible_case(uow, actor, earlier[0])
                uow.audit(audit_record(actor, "case.open", case.id, purpose))
                uow.commit()
                return case
            today = latest_today(now)
            person = cmd.person.validated(today)
            if cmd.kind is CaseKind.UNIDENTIFIED_REMAINS and person.display_name:
                raise InvalidField("person.display_name", "remains cases carry no name",
                                   "not-allowed")
            minor = cmd.minor_declared or is_minor(person.date_of_birth,
                                                   person.estimated_age, now.date())
            require_may_file_minor(actor, minor)
            case = Case(id=uuid.uuid4(), organisation_id=actor.org, kind=cmd.kind,
                        risk_level=cmd.risk_level, person=person,
                        subject_key_id=new_subject_key_id(), opened_by=actor.username,
                        opened_at=now, is_minor=minor, assignees=[actor.username])
            sealed = uow.cases.add(case)
            remember(uow, actor, token, case.id, case.id)
            uow.audit(audit_record(actor, "case.open", case.id, purpose))
            uow.emit(CaseOpened(case_id=case.id, organisation_id=case.organisation_id,
                                case_kind=case.kind.value, opened_at=case.opened_at,
                                subject=sealed))
            uow.commit()
            return case

    return retry_once_on_race(run)


def get_case(uows: UowFactory, actor: Actor, case_id: UUID, purpose: str
             ) -> tuple[Case, list[tuple[UUID, str, bool]]]:
    """The case and its records' (id, kind, is_minor), if the actor may see it."""
    with audited(uows, actor, "case.read", case_id, purpose) as uow:
        case = visible_case(uow, actor, case_id)
        records = uow.records.list_for_case(case_id)
        uow.commit()
        return case, records


def list_cases(uows: UowFactory, actor: Actor, status: CaseStatus | None, limit: int,
               offset: int, purpose: str | None = None) -> list[CaseSummary]:
    """The actor's organisation's cases they may see, newest first, without personal data
    (audited as a listing of the organisation's cases)."""
    if not actor.roles & CASE_ROLES:
        return []
    with audited(uows, actor, "case.list", None, purpose) as uow:
        rows = uow.cases.list_for(actor.org, include_minors=actor.has(CHILD_PROTECTION),
                                  status=status.value if status else None, limit=limit,
                                  offset=offset)
        uow.audit(audit_record(actor, "case.list", actor.org or "unknown", purpose,
                               object_type="organisation"))
        uow.commit()
        return [CaseSummary(r.id, CaseKind(r.kind), CaseStatus(r.status),
                            RiskLevel(r.risk_level), r.is_minor, list(r.assignees), r.opened_at)
                for r in rows]


def change_status(uows: UowFactory, actor: Actor, case_id: UUID, status: CaseStatus | None,
                  now: datetime, risk_level: RiskLevel | None = None,
                  purpose: str | None = None) -> Case:
    """Move the case along its workflow and/or re-assess its risk; emits
    `case.status-changed`."""
    if status is None and risk_level is None:
        raise InvalidField("status", "give a status, a risk level or both", "empty")
    with audited(uows, actor, "case.status-change", case_id, purpose) as uow:
        case = visible_case(uow, actor, case_id, for_update=True)
        if status is not None:
            case.move_to(status)
        if risk_level is not None:
            case.set_risk(risk_level)
        uow.cases.save(case)
        uow.emit(CaseStatusChanged(case_id=case.id, organisation_id=case.organisation_id,
                                   status=case.status.value, risk_level=case.risk_level.value,
                                   is_minor=case.is_minor, changed_at=now))
        uow.commit()
        return case


def assign(uows: UowFactory, actor: Actor, case_id: UUID, username: str,
           purpose: str | None = None) -> Case:
    """Assign a caseworker (of the same organisation, by username) to the case."""
    with audited(uows, actor, "case.assign", case_id, purpose) as uow:
        case = visible_case(uow, actor, case_id, for_update=True)
        case.assign(username)
        uow.cases.save(case)
        uow.commit()
        return case
