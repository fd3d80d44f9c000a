"""Routes for tracing records: missing-person reports, found persons, unidentified remains."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status

from intake.api import convert
from intake.api import schemas as s
from intake.api.dependencies import (
    CurrentActor,
    IdempotencyKey,
    Now,
    Uows,
    WritePurpose,
    idempotency,
    read_purpose,
)
from intake.domain.case import CaseKind
from intake.domain.records import FoundPersonRecord, MissingPersonReport, UnidentifiedRemains
from intake.service_layer.records import amend_record, file_record, get_record

router = APIRouter(prefix="/cases/{case_id}", tags=["tracing records"])
ReportRead = Annotated[str, Depends(read_purpose("missing-person-report.read"))]
FoundRead = Annotated[str, Depends(read_purpose("found-person.read"))]
RemainsRead = Annotated[str, Depends(read_purpose("remains.read"))]


@router.post("/missing-person-reports", status_code=status.HTTP_201_CREATED,
             response_model=s.MissingPersonReportPublic)
def file_missing_person_report(
    case_id: UUID, body: s.MissingPersonReportIn, request: Request, response: Response,
    actor: CurrentActor, uows: Uows, now: Now, purpose: WritePurpose,
    idempotency_key: IdempotencyKey = None,
) -> s.MissingPersonReportPublic:
    """File a relative's tracing request on a missing-person case."""
    case, record = file_record(uows, actor, case_id, convert.missing_person(body), now,
                               idempotency(request, idempotency_key, body), purpose)
    assert isinstance(record, MissingPersonReport)
    response.headers["Location"] = f"/cases/{case.id}/missing-person-reports/{record.id}"
    return convert.missing_person_public(case.id, record)


@router.get("/missing-person-reports/{report_id}", response_model=s.MissingPersonReportPublic)
def read_missing_person_report(case_id: UUID, report_id: UUID, actor: CurrentActor, uows: Uows,
                               purpose: ReportRead) -> s.MissingPersonReportPublic:
    """A missing-person report of a case the caller may see (needs `X-Purpose-Of-Use`)."""
    record = get_record(uows, actor, case_id, report_id, CaseKind.MISSING_PERSON, purpose)
    assert isinstance(record, MissingPersonReport)
    return convert.missing_person_public(case_id, record)


@router.post("/found-persons", status_code=status.HTTP_201_CREATED,
             response_model=s.FoundPersonPublic)
def file_found_person(
    case_id: UUID, body: s.FoundPersonIn, request: Request, response: Response,
    actor: CurrentActor, uows: Uows, now: Now, purpose: WritePurpose,
    idempotency_key: IdempotencyKey = None,
) -> s.FoundPersonPublic:
    """Record a living person seeking family, or found in hospital, detention or shelter."""
    case, record = file_record(uows, actor, case_id, convert.found_person(body), now,
                               idempotency(request, idempotency_key, body), purpose)
    assert isinstance(record, FoundPersonRecord)
    response.headers["Location"] = f"/cases/{case.id}/found-persons/{record.id}"
    return convert.found_person_public(case.id, record)


@router.get("/found-persons/{record_id}", response_model=s.FoundPersonPublic)
def read_found_person(case_id: UUID, record_id: UUID, actor: CurrentActor, uows: Uows,
                      purpose: FoundRead) -> s.FoundPersonPublic:
    """A found-person record of a case the caller may see (needs `X-Purpose-Of-Use`)."""
    record = get_record(uows, actor, case_id, record_id, CaseKind.FOUND_PERSON, purpose)
    assert isinstance(record, FoundPersonRecord)
    return convert.found_person_public(case_id, record)


@router.post("/remains", status_code=status.HTTP_201_CREATED, response_model=s.RemainsPublic)
def file_remains(
    case_id: UUID, body: s.RemainsIn, request: Request, response: Response,
    actor: CurrentActor, uows: Uows, now: Now, purpose: WritePurpose,
    idempotency_key: IdempotencyKey = None,
) -> s.RemainsPublic:
    """Record unidentified remains (post-mortem data; DNA only as a sample reference)."""
    case, record = file_record(uows, actor, case_id, convert.remains(body), now,
                               idempotency(request, idempotency_key, body), purpose)
    assert isinstance(record, UnidentifiedRemains)
    response.headers["Location"] = f"/cases/{case.id}/remains/{record.id}"
    return convert.remains_public(case.id, record)


@router.get("/remains/{remains_id}", response_model=s.RemainsPublic)
def read_remains(case_id: UUID, remains_id: UUID, actor: CurrentActor, uows: Uows,
                 purpose: RemainsRead) -> s.RemainsPublic:
    """An unidentified-remains record of a case the caller may see (needs
    `X-Purpose-Of-Use`)."""
    record = get_record(uows, actor, case_id, remains_id, CaseKind.UNIDENTIFIED_REMAINS, purpose)
    assert isinstance(record, UnidentifiedRemains)
    return convert.remains_public(case_id, record)


@router.put("/missing-person-reports/{report_id}", response_model=s.MissingPersonReportPublic)
def amend_missing_person_report(case_id: UUID, report_id: UUID, body: s.MissingPersonReportIn,
                                actor: CurrentActor, uows: Uows, now: Now,
                                purpose: WritePurpose) -> s.MissingPersonReportPublic:
    """Correct a missing-person report (the whole report, as it now stands)."""
    _, record = amend_record(uows, actor, case_id,
                             replace(convert.missing_person(body), id=report_id), now, purpose)
    assert isinstance(record, MissingPersonReport)
    return convert.missing_person_public(case_id, record)


@router.put("/found-persons/{record_id}", response_model=s.FoundPersonPublic)
def amend_found_person(case_id: UUID, record_id: UUID, body: s.FoundPersonIn,
                       actor: CurrentActor, uows: Uows, now: Now, purpose: WritePurpose
                       ) -> s.FoundPersonPublic:
    """Correct a found-person record."""
    _, record = amend_record(uows, actor, case_id,
                             replace(convert.found_person(body), id=record_id), now, purpose)
    assert isinstance(record, FoundPersonRecord)
    return convert.found_person_public(case_id, record)


@router.put("/remains/{remains_id}", response_model=s.RemainsPublic)
def amend_remains(case_id: UUID, remains_id: UUID, body: s.RemainsIn, actor: CurrentActor,
                  uows: Uows, now: Now, purpose: WritePurpose) -> s.RemainsPublic:
    """Correct an unidentified-remains record."""
    _, record = amend_record(uows, actor, case_id,
                             replace(convert.remains(body), id=remains_id), now, purpose)
    assert isinstance(record, UnidentifiedRemains)
    return convert.remains_public(case_id, record)
