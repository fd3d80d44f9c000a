"""Domain objects ↔ the plain dicts that get sealed (JSON-ready, dates as ISO strings)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any
from uuid import UUID

from intake.domain.case import PersonInNeed
from intake.domain.records import (
    Enquirer,
    FoundPersonRecord,
    LastSeen,
    MissingPersonReport,
    PersonName,
    UnidentifiedRemains,
)


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _names(raw: list[dict[str, Any]]) -> tuple[PersonName, ...]:
    return tuple(PersonName(**n) for n in raw)


def person_to_dict(p: PersonInNeed) -> dict[str, Any]:
    return {"display_name": p.display_name, "date_of_birth": _iso(p.date_of_birth),
            "estimated_age": p.estimated_age}


def person_from_dict(d: dict[str, Any]) -> PersonInNeed:
    return PersonInNeed(d.get("display_name"), _d(d.get("date_of_birth")),
                        d.get("estimated_age"))


def missing_person_details(r: MissingPersonReport) -> dict[str, Any]:
    """The sought person's sealed details (the enquirer is sealed apart)."""
    last_seen = asdict(r.last_seen)
    last_seen["date"] = _iso(r.last_seen.date)
    return {"names": [asdict(n) for n in r.names], "date_of_birth": _iso(r.date_of_birth),
            "estimated_age": r.estimated_age, "nationalities": list(r.nationalities),
            "languages": list(r.languages), "physical_description": r.physical_description,
            "last_seen": last_seen}


def missing_person_from(record_id: UUID, sex: str, scope: list[str], d: dict[str, Any],
                        enquirer: dict[str, Any]) -> MissingPersonReport:
    ls = dict(d["last_seen"])
    ls["date"] = _d(ls.get("date"))
    return MissingPersonReport(
        id=record_id, names=_names(d["names"]), sex=sex, date_of_birth=_d(d["date_of_birth"]),
        estimated_age=d["estimated_age"], nationalities=tuple(d["nationalities"]),
        languages=tuple(d["languages"]), physical_description=d["physical_description"],
        last_seen=LastSeen(**ls), enquirer=Enquirer(**enquirer), sharing_scope=tuple(scope))


def found_person_details(r: FoundPersonRecord) -> dict[str, Any]:
    return {"names": [asdict(n) for n in r.names], "date_of_birth": _iso(r.date_of_birth),
            "estimated_age": r.estimated_age, "nationalities": list(r.nationalities),
            "languages": list(r.languages), "physical_description": r.physical_description,
            "found_setting": r.found_setting, "found_place": r.found_place,
            "found_date": _iso(r.found_date)}


def found_person_from(record_id: UUID, sex: str, scope: list[str], d: dict[str, Any]
                      ) -> FoundPersonRecord:
    return FoundPersonRecord(
        id=record_id, names=_names(d["names"]), sex=sex, date_of_birth=_d(d["date_of_birth"]),
        estimated_age=d["estimated_age"], nationalities=tuple(d["nationalities"]),
        languages=tuple(d["languages"]), physical_description=d["physical_description"],
        found_setting=d["found_setting"], found_place=d["found_place"],
        found_date=_d(d["found_date"]) or date.min, sharing_scope=tuple(scope))


def remains_details(r: UnidentifiedRemains) -> dict[str, Any]:
    out = asdict(r)
    out.pop("id")
    out.pop("estimated_sex")
    for k in ("found_date", "date_of_death", "date_of_birth"):
        out[k] = _iso(out[k])
    out["personal_effects"] = list(r.personal_effects)
    return out


def remains_from(record_id: UUID, sex: str, d: dict[str, Any]) -> UnidentifiedRemains:
    d = dict(d)
    for k in ("found_date", "date_of_death", "date_of_birth"):
        d[k] = _d(d[k])
    d["personal_effects"] = tuple(d["personal_effects"])
    return UnidentifiedRemains(id=record_id, estimated_sex=sex, **d)
