"""Mapping between API bodies and domain objects, at the edge."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from uuid import UUID

from intake.api import schemas as s
from intake.domain.case import Case, PersonInNeed
from intake.domain.records import (
    Enquirer,
    FoundPersonRecord,
    LastSeen,
    MissingPersonReport,
    PersonName,
    UnidentifiedRemains,
)


def person(p: s.PersonIn) -> PersonInNeed:
    return PersonInNeed(p.display_name, p.date_of_birth, p.estimated_age)


def case_public(case: Case, records: list[tuple[UUID, str, bool]] | None = None
                ) -> s.CasePublic:
    return s.CasePublic(
        id=case.id, organisation_id=case.organisation_id, kind=case.kind, status=case.status,
        risk_level=case.risk_level, is_minor=case.is_minor,
        person=s.PersonIn.model_construct(**asdict(case.person)),
        assignees=case.assignees, opened_by=case.opened_by, opened_at=case.opened_at,
        records=[s.RecordRef(id=i, kind=k, is_minor=m) for i, k, m in records or []])


def _names(names: list[s.NameIn]) -> tuple[PersonName, ...]:
    return tuple(PersonName(n.text, n.script, n.romanised) for n in names)


def _names_out(names: tuple[PersonName, ...]) -> list[dict[str, object]]:
    return [asdict(n) for n in names]


def missing_person(body: s.MissingPersonReportIn) -> MissingPersonReport:
    ls, enq = body.last_seen, body.enquirer
    return MissingPersonReport(
        id=uuid.uuid4(), names=_names(body.names), sex=body.sex,
        date_of_birth=body.date_of_birth, estimated_age=body.estimated_age,
        nationalities=tuple(body.nationalities), languages=tuple(body.languages),
        physical_description=body.physical_description,
        last_seen=LastSeen(ls.place, ls.date, ls.circumstances, ls.route, ls.details),
        enquirer=Enquirer(enq.name, enq.relationship, enq.contact),
        sharing_scope=tuple(body.sharing_scope))


def missing_person_public(case_id: UUID, r: MissingPersonReport) -> s.MissingPersonReportPublic:
    return s.MissingPersonReportPublic.model_validate({
        "id": r.id, "case_id": case_id, "names": _names_out(r.names), "sex": r.sex,
        "date_of_birth": r.date_of_birth, "estimated_age": r.estimated_age,
        "nationalities": list(r.nationalities), "languages": list(r.languages),
        "physical_description": r.physical_description, "last_seen": asdict(r.last_seen),
        "enquirer": asdict(r.enquirer), "sharing_scope": list(r.sharing_scope)})


def found_person(body: s.FoundPersonIn) -> FoundPersonRecord:
    return FoundPersonRecord(
        id=uuid.uuid4(), names=_names(body.names), sex=body.sex,
        date_of_birth=body.date_of_birth, estimated_age=body.estimated_age,
        nationalities=tuple(body.nationalities), languages=tuple(body.languages),
        physical_description=body.physical_description, found_setting=body.found_setting,
        found_place=body.found_place, found_date=body.found_date,
        sharing_scope=tuple(body.sharing_scope))


def found_person_public(case_id: UUID, r: FoundPersonRecord) -> s.FoundPersonPublic:
    data = asdict(r)
    data.update(case_id=case_id, names=_names_out(r.names))
    return s.FoundPersonPublic.model_validate(data)


def remains(body: s.RemainsIn) -> UnidentifiedRemains:
    data = body.model_dump()
    data["personal_effects"] = tuple(data["personal_effects"])
    return UnidentifiedRemains(id=uuid.uuid4(), **data)


def remains_public(case_id: UUID, r: UnidentifiedRemains) -> s.RemainsPublic:
    data = asdict(r)
    data["case_id"] = case_id
    return s.RemainsPublic.model_validate(data)
