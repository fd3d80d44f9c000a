"""Import of Open Referral HSDS 3.0 JSON into directory objects (the reverse of the export).

Accepts an HSDS API page (`{"contents": [service, ...]}`) or a bare list of services, each with
its `organization` nested. Every problem is collected with the record's position, the line the
record starts on and the field's path, and nothing is returned unless the whole file is valid,
so an import is all or nothing.
Problems name fields and rules, never the values found there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from registry.adapters.hsds_export import ELIGIBILITY_TAXONOMY, KIND_TAXONOMY, ORG_IDENTIFIER_TYPE
from registry.domain.directory import (
    Capacity,
    DirectoryError,
    Eligibility,
    Gender,
    Location,
    OpeningHours,
    Organisation,
    ServiceArea,
    ServiceDetails,
    ServiceKind,
    ServiceStatus,
    Weekday,
)
from registry.domain.text import clean_line, clean_text

STATUS_FROM_HSDS = {
    "active": ServiceStatus.ACTIVE,
    "temporarily closed": ServiceStatus.TEMPORARILY_CLOSED,
    "inactive": ServiceStatus.WITHDRAWN,
    "defunct": ServiceStatus.WITHDRAWN,
}
MAX_PROBLEMS = 50
Line = Annotated[str, AfterValidator(clean_line)]
Text = Annotated[str, AfterValidator(clean_text)]


@dataclass(frozen=True)
class ImportProblem:
    """What is wrong where: `record` is the position in the file (from 0), `field` a path."""

    record: int | None
    field: str
    message: str
    line: int | None = None


class HsdsImportError(Exception):
    """The file is not importable; `problems` says where and why."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problems in the HSDS file")
        self.problems = problems


@dataclass(frozen=True)
class ImportedService:
    """One service of the file, ready for the directory."""

    service_id: UUID
    organisation: Organisation
    details: ServiceDetails
    capacity: Capacity | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=20_000)


class _Identifier(_Model):
    identifier_type: str
    identifier: str = Field(max_length=100)


class _Organisation(_Model):
    id: UUID
    name: Line = Field(min_length=1, max_length=300)
    description: Text
    website: str = Field(default="", max_length=500)
    email: str = Field(default="", max_length=300)
    organization_identifiers: list[_Identifier] = []


class _Term(_Model):
    code: str | None = None
    taxonomy: str | None = None


class _Attribute(_Model):
    value: str | None = None
    taxonomy_term: _Term | None = None


class _Language(_Model):
    code: str = Field(min_length=2, max_length=35)


class _Area(_Model):
    id: UUID
    name: Line = Field(default="", max_length=300)
    extent: str | None = None
    extent_type: str | None = Field(default=None, max_length=50)


class _Schedule(_Model):
    id: UUID
    byday: Weekday
    opens_at: time
    closes_at: time


class _Address(_Model):
    address_1: str = ""
    city: str = ""
    region: str | None = None
    state_province: str = ""
    postal_code: str = ""
    country: str = ""


class _Location(_Model):
    id: UUID
    name: Line = Field(default="", max_length=300)
    latitude: float | None = None
    longitude: float | None = None
    addresses: list[_Address] = []


class _ServiceAtLocation(_Model):
    location: _Location


class _Unit(_Model):
    name: str = Field(min_length=1, max_length=100)


class _Capacity(_Model):
    id: UUID
    unit: _Unit
    available: int = Field(ge=0)
    maximum: int | None = Field(default=None, ge=0)
    updated: datetime


class _Service(_Model):
    id: UUID
    name: Line = Field(min_length=1, max_length=300)
    description: Text = ""
    status: Literal["active", "inactive", "defunct", "temporarily closed"]
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    organization: _Organisation
    attributes: list[_Attribute] = []
    languages: list[_Language] = []
    service_areas: list[_Area] = []
    schedules: list[_Schedule] = []
    service_at_locations: list[_ServiceAtLocation] = []
    capacities: list[_Capacity] = Field(default=[], max_length=1)


def parse_document(raw: bytes) -> list[Any]:
    """The service records of an HSDS JSON file; JSON syntax errors name line and column."""
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError:
        raise HsdsImportError([ImportProblem(None, "", "The file is not UTF-8 text.")]
                              ) from None
    except json.JSONDecodeError as e:
        raise HsdsImportError([ImportProblem(
            None, "", f"Malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}.",
            line=e.lineno)]) from None
    records = doc.get("contents") if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        raise HsdsImportError([ImportProblem(
            None, "contents", "Expected an HSDS page with 'contents' or a list of services.")])
    return records


def import_services(raw: bytes) -> list[ImportedService]:
    """Every service of the file, or `HsdsImportError` listing every problem found."""
    problems: list[ImportProblem] = []
    out: list[ImportedService] = []
    seen: set[UUID] = set()
    for index, record in enumerate(parse_document(raw)):
        try:
            parsed = _Service.model_validate(record)
        except ValidationError as e:
            problems += [ImportProblem(index, ".".join(str(p) for p in err["loc"]), _rule(err))
                         for err in e.errors(include_input=False, include_url=False)]
        else:
            if parsed.id in seen:
                problems.append(ImportProblem(index, "id", "The service id appears twice."))
            seen.add(parsed.id)
            try:
                out.append(_to_domain(parsed))
            except _FieldProblem as p:
                problems.append(ImportProblem(index, p.field, p.message))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        lines = record_lines(raw)
        if lines:
            problems = [replace(p, line=lines[p.record]) if p.record is not None
                        and p.record < len(lines) else p for p in problems]
        raise HsdsImportError(problems[:MAX_PROBLEMS])
    return out


_CONTENTS = re.compile(r'(?<!\\)"contents"\s*:\s*\[')


def record_lines(raw: bytes) -> list[int] | None:
    """The line on which each record of a well-formed file starts (None when unclear).

    Only for naming where a problem is: a file `json` accepted is decoded element by element
    from the start of the records array, keeping each element's offset.
    """
    text = raw.decode("utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        pos = len(text) - len(stripped) + 1
    else:
        match = _CONTENTS.search(text)
        if match is None:
            return None
        pos = match.end()
    decoder = json.JSONDecoder()
    starts: list[int] = []
    try:
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                break
            starts.append(pos)
            _, pos = decoder.raw_decode(text, pos)
    except ValueError:
        return None
    return [text.count("\n", 0, start) + 1 for start in starts]


def _rule(err: Any) -> str:
    # Some parsers quote the offending characters in their message; name the rule only.
    kind = str(err.get("type", ""))
    if kind.startswith("uuid"):
        return "Input should be a valid UUID"
    if kind.startswith(("datetime", "date", "time")):
        return "Input should be a valid ISO 8601 " + kind.split("_")[0]
    return str(err.get("msg", "invalid value"))


class _FieldProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _haven_attributes(service: _Service) -> tuple[ServiceKind, dict[str, list[str]]]:
    kind: ServiceKind | None = None
    eligibility: dict[str, list[str]] = {}
    for i, attr in enumerate(service.attributes):
        term = attr.taxonomy_term
        if term is None or not term.code:
            continue
        if term.taxonomy == KIND_TAXONOMY:
            try:
                kind = ServiceKind.parse(term.code)
            except DirectoryError as e:
                raise _FieldProblem(f"attributes.{i}.taxonomy_term.code", str(e)) from None
        elif term.taxonomy == ELIGIBILITY_TAXONOMY:
            eligibility.setdefault(term.code, []).append(attr.value or "")
    if kind is None:
        raise _FieldProblem("attributes", f"No attribute of the taxonomy {KIND_TAXONOMY} "
                                          "names the service kind.")
    return kind, eligibility


def _flag(rules: dict[str, list[str]], code: str) -> bool:
    values = rules.get(code, ["false"])
    if values[-1] not in ("true", "false"):
        raise _FieldProblem("attributes", f"The {code} attribute must be true or false.")
    return values[-1] == "true"


def _to_domain(s: _Service) -> ImportedService:
    kind, rules = _haven_attributes(s)
    try:
        genders = frozenset(Gender(g) for g in rules.get("gender", []))
    except ValueError:
        raise _FieldProblem("attributes", "A gender attribute is not a known gender.") from None
    o = s.organization
    code = next((i.identifier for i in o.organization_identifiers
                 if i.identifier_type == ORG_IDENTIFIER_TYPE), "")
    organisation = Organisation(id=o.id, name=o.name, description=o.description, code=code,
                                website=o.website, email=o.email)
    field = "minimum_age"
    try:
        eligibility = Eligibility(genders=genders, minimum_age=s.minimum_age,
                                  maximum_age=s.maximum_age,
                                  women_only=_flag(rules, "women_only"),
                                  child_qualified=_flag(rules, "child_qualified"))
        field = "schedules"
        hours = tuple(OpeningHours(id=h.id, day=h.byday, opens_at=h.opens_at,
                                   closes_at=h.closes_at) for h in s.schedules)
        field = "capacities.0"
        capacity = None
        if s.capacities:
            c = s.capacities[0]
            capacity = Capacity(id=c.id, unit=c.unit.name, available=c.available,
                                maximum=c.maximum, updated_at=c.updated)
    except DirectoryError as e:
        raise _FieldProblem(field, str(e)) from None
    details = ServiceDetails(
        name=s.name, kind=kind, description=s.description,
        status=STATUS_FROM_HSDS[s.status], eligibility=eligibility,
        languages=tuple(lang.code for lang in s.languages),
        locations=tuple(_location(sal.location) for sal in s.service_at_locations),
        areas=tuple(ServiceArea(id=a.id, name=a.name, extent=a.extent or "",
                                extent_type=a.extent_type or "") for a in s.service_areas),
        opening_hours=hours,
    )
    return ImportedService(service_id=s.id, organisation=organisation, details=details,
                           capacity=capacity)


def _location(loc: _Location) -> Location:
    a = loc.addresses[0] if loc.addresses else _Address()
    return Location(id=loc.id, name=loc.name, address=a.address_1, city=a.city,
                    region=a.region or a.state_province, postal_code=a.postal_code,
                    country=a.country, latitude=loc.latitude, longitude=loc.longitude)
