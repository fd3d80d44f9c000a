"""Use cases of tracing records (§12): file and read missing-person reports, found persons
and unidentified remains. Each filing stores the record sealed and emits its event."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from haven_shared.events.intake import (
    FoundPersonRecorded,
    MissingPersonRecorded,
    PersonRecordAmended,
    RemainsRecorded,
)
from haven_shared.events.model import Event, SealedPersonalData
from intake.adapters.repository import TracingRecord
from intake.domain.access import Actor, require_may_file_minor
from intake.domain.case import Case, CaseKind
from intake.domain.errors import InvalidTransition, RecordNotFound
from intake.domain.records import FoundPersonRecord, MissingPersonReport, UnidentifiedRemains
from intake.service_layer.audit import audited
from intake.service_layer.common import (
    IdempotencyToken,
    UowFactory,
    latest_today,
    remember,
    replayed,
    retry_once_on_race,
    visible_case,
)
from intake.service_layer.unit_of_work import IntakeUnitOfWork

KIND_OF = {
    MissingPersonReport: CaseKind.MISSING_PERSON,
    FoundPersonRecord: CaseKind.FOUND_PERSON,
    UnidentifiedRemains: CaseKind.UNIDENTIFIED_REMAINS,
}
# The record kind as audit actions name it ("missing-person-report.read", ...).
AUDIT_NAME = {
    CaseKind.MISSING_PERSON: "missing-person-report",
    CaseKind.FOUND_PERSON: "found-person",
    CaseKind.UNIDENTIFIED_REMAINS: "remains",
}


def _event(case: Case, record: TracingRecord, minor: bool, sealed: SealedPersonalData,
           now: datetime) -> Event:
    common = {"case_id": case.id, "organisation_id": case.organisation_id, "is_minor": minor,
              "recorded_at": now, "subject": sealed}
    if isinstance(record, MissingPersonReport):
        return MissingPersonRecorded(report_id=record.id, sex=record.sex,
                                     sharing_scope=list(record.sharing_scope), **common)
    if isinstance(record, FoundPersonRecord):
        return FoundPersonRecorded(record_id=record.id, sex=record.sex,
                                   found_setting=record.found_setting,
                                   sharing_scope=list(record.sharing_scope), **common)
    return RemainsRecorded(remains_id=record.id, estimated_sex=record.estimated_sex, **common)


def _is_minor(record: TracingRecord, now: datetime) -> bool:
    if isinstance(record, UnidentifiedRemains):
        return record.is_minor()
    return record.is_minor(now.date())


def file_record(uows: UowFactory, actor: Actor, case_id: UUID, record: TracingRecord,
                now: datetime, token: IdempotencyToken | None = None,
                purpose: str | None = None) -> tuple[Case, TracingRecord]:
    """File a tracing record on a case of the matching kind; emits its `*.recorded` event.

    A minor's record needs the child-protection role; the case then counts as a minor's.
    """
    kind = KIND_OF[type(record)]

    def run() -> tuple[Case, TracingRecord]:
        with audited(uows, actor, f"{AUDIT_NAME[kind]}.create", case_id, purpose) as uow:
            earlier = replayed(uow, actor, token)
            if earlier is not None:
                found = _load(uow, actor, earlier[0], earlier[1], kind)
                uow.commit()
                return found
            case = visible_case(uow, actor, case_id, for_update=True)
            if case.kind is not kind:
                raise InvalidTransition(f"A {case.kind} case cannot hold a {kind} record.")
            clean = record.validated(latest_today(now))
            minor = _is_minor(clean, now)
            require_may_file_minor(actor, minor)
            sealed = uow.records.add(case.id, clean, is_minor=minor, recorded_by=actor.username)
            case.concerns_minor(minor)
            uow.cases.save(case)
            remember(uow, actor, token, case.id, clean.id)
            uow.emit(_event(case, clean, minor, sealed, now))
            uow.commit()
            return case, clean

    return retry_once_on_race(run)


def _load(uow: IntakeUnitOfWork, actor: Actor, case_id: UUID, record_id: UUID,
          kind: CaseKind) -> tuple[Case, TracingRecord]:
    case = visible_case(uow, actor, case_id)
    record = uow.records.get(case_id, record_id, kind.value)
    if record is None:
        raise RecordNotFound("No such record.")
    return case, record


def get_record(uows: UowFactory, actor: Actor, case_id: UUID, record_id: UUID,
               kind: CaseKind, purpose: str) -> TracingRecord:
    """A record of the case, opened, if the actor may see the case."""
    with audited(uows, actor, f"{AUDIT_NAME[kind]}.read", case_id, purpose) as uow:
        record = _load(uow, actor, case_id, record_id, kind)[1]
        uow.commit()
        return record


def amend_record(uows: UowFactory, actor: Actor, case_id: UUID, record: TracingRecord,
                 now: datetime, purpose: str | None = None) -> tuple[Case, TracingRecord]:
    """Replace a record with a corrected version (`record.id` names it); emits
    `person-record.amended` so that registry re-indexes it."""
    kind = KIND_OF[type(record)]
    with audited(uows, actor, f"{AUDIT_NAME[kind]}.amend", case_id, purpose) as uow:
        case = visible_case(uow, actor, case_id, for_update=True)
        clean = record.validated(latest_today(now))
        minor = _is_minor(clean, now)
        require_may_file_minor(actor, minor)
        sealed = uow.records.replace(case.id, clean, is_minor=minor)
        if sealed is None:
            raise RecordNotFound("No such record.")
        case.concerns_minor(minor)
        uow.cases.save(case)
        scope = [] if isinstance(clean, UnidentifiedRemains) else list(clean.sharing_scope)
        sex = clean.estimated_sex if isinstance(clean, UnidentifiedRemains) else clean.sex
        uow.emit(PersonRecordAmended(
            case_id=case.id, organisation_id=case.organisation_id, record_id=clean.id,
            record_kind=kind.value, amended_at=now, sex=sex, is_minor=case.is_minor or minor,
            sharing_scope=scope, subject=sealed))
        uow.commit()
        return case, clean
