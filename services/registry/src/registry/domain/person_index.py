"""The person index's rules: which intake records may be matched, and how they are referred to.

An entry stands for one intake record (missing-person report, found person, unidentified
remains) under a pseudonymous reference, `intake/<kind>/<intake record id>`, that intake's case
view recognises. A living person's record is matched only while the case has tracing consent
and the reporter's sharing scope includes tracing services. Remains are matched without
consent: the dead cannot give it, and identifying them is the forensic mandate the record was
made for.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from registry.matching import AgeEstimate, BirthDate, PersonRecord, RecordKind, Sighting

TRACING_SCOPE = "tracing-service"
FORENSIC_SCOPE = "forensic-service"


class IntakeKind(enum.StrEnum):
    """Intake's record kinds, as its references and amendments name them."""

    MISSING_PERSON = "missing-person"
    FOUND_PERSON = "found-person"
    REMAINS = "remains"

    @property
    def matching_kind(self) -> RecordKind:
        return _MATCHING_KIND[self]


_MATCHING_KIND = {IntakeKind.MISSING_PERSON: RecordKind.MISSING_PERSON_REPORT,
                  IntakeKind.FOUND_PERSON: RecordKind.FOUND_PERSON,
                  IntakeKind.REMAINS: RecordKind.UNIDENTIFIED_REMAINS}
# `person-record.amended` names remains "unidentified-remains".
AMENDED_KIND = {"missing-person": IntakeKind.MISSING_PERSON,
                "found-person": IntakeKind.FOUND_PERSON,
                "unidentified-remains": IntakeKind.REMAINS}


def record_ref(kind: IntakeKind, record_id: UUID) -> str:
    """The pseudonymous reference of an intake record (intake's case view resolves it)."""
    return f"intake/{kind.value}/{record_id}"


def may_match(kind: IntakeKind, sharing_scope: Collection[str], tracing_consent: bool) -> bool:
    """Whether a record may be in the index (consent and the reporter's sharing scope)."""
    if kind is IntakeKind.REMAINS:
        return True
    return tracing_consent and TRACING_SCOPE in sharing_scope


def may_pair(a: PersonEntry, b: PersonEntry) -> bool:
    """Whether two indexed records may be proposed to reviewers as one person: a match with
    remains goes to forensic reviewers, so the living person's reporter must allow
    forensic services to see the record."""
    kinds = (a.kind, b.kind)
    if IntakeKind.REMAINS not in kinds or kinds == (IntakeKind.REMAINS, IntakeKind.REMAINS):
        return True
    living = a if b.kind is IntakeKind.REMAINS else b
    return FORENSIC_SCOPE in living.sharing_scope


_SEX = {"male": "m", "female": "f"}


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def person_record(ref: str, kind: IntakeKind, fields: Mapping[str, Any]) -> PersonRecord:
    """The matching engine's view of an entry's matching fields.

    Each name is one text; the first name's first word is taken as the given name and the rest
    of it as one family name (patronymic parts stay together), further names as other names.
    """
    names = [str(n).split() for n in fields.get("names") or [] if str(n).strip()]
    given: tuple[str, ...] = ()
    family: tuple[str, ...] = ()
    if names:
        given = (names[0][0],)
        family = (" ".join(names[0][1:]),) if len(names[0]) > 1 else ()
    born = _date(fields.get("date_of_birth"))
    sighting = Sighting(date=_date(fields.get("date")), place=fields.get("place") or None)
    nationalities = fields.get("nationalities") or []
    age_low, age_high = fields.get("estimated_age_min"), fields.get("estimated_age_max")
    on = sighting.date or _date(fields.get("date_of_death"))
    pmi = fields.get("post_mortem_interval_days")
    return PersonRecord(
        record_id=ref, kind=kind.matching_kind, given_names=given, family_names=family,
        other_names=tuple(" ".join(n) for n in names[1:]),
        sex=_SEX.get(str(fields.get("sex"))),
        birth_date=BirthDate(born.year, born.month, born.day) if born else None,
        age_estimate=(AgeEstimate(int(age_low), int(age_high), on)
                      if age_low is not None and age_high is not None and on else None),
        nationality=nationalities[0] if nationalities else None,
        languages=tuple(fields.get("languages") or ()),
        last_seen=sighting if kind is IntakeKind.MISSING_PERSON else None,
        found=sighting if kind is not IntakeKind.MISSING_PERSON else None,
        post_mortem_interval_days=(int(pmi), int(pmi)) if pmi is not None else None)


@dataclass
class PersonEntry:
    """One intake record in the person index: its reference, routing facts and the fields
    matching needs (held sealed at rest under the data subject's key id)."""

    ref: str
    case_id: UUID
    organisation_id: str
    kind: IntakeKind
    key_id: str
    sharing_scope: tuple[str, ...]
    fields: dict[str, Any]
    indexed: bool = False
    # The record is of a child (intake's flag): matches of it need child protection's review.
    is_minor: bool = False

    def as_person_record(self) -> PersonRecord:
        return person_record(self.ref, self.kind, self.fields)
