"""Tracing records (§12): missing-person reports, found persons and unidentified remains.

Each `validated(today)` returns a copy with names in NFC and checks the rules across fields
(born after last seen, death before birth, dates in the future, impossible ages); a broken
rule raises `InvalidField` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from intake.domain import validation as v
from intake.domain.errors import InvalidField


@dataclass(frozen=True)
class PersonName:
    """A name as written (any script) or one of its romanisations."""

    text: str
    script: str | None = None
    romanised: bool = False


def _names(field: str, names: tuple[PersonName, ...]) -> tuple[PersonName, ...]:
    return tuple(replace(n, text=v.clean_name(f"{field}.{i}.text", n.text))
                 for i, n in enumerate(names))


def _age_rules(prefix: str, born: date | None, age: int | None, today: date) -> None:
    v.not_in_future(f"{prefix}date_of_birth", born, today)
    v.plausible_age(f"{prefix}estimated_age", age)
    if born is not None and v.age_on(born, today) > v.MAX_AGE:
        raise InvalidField(f"{prefix}date_of_birth", "gives an impossible age", "impossible-age")


@dataclass(frozen=True)
class LastSeen:
    """Where, when and how the sought person was last seen."""

    place: str
    date: date | None
    circumstances: str
    route: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class Enquirer:
    """The relative filing the tracing request (a data subject of their own)."""

    name: str
    relationship: str
    contact: str


@dataclass(frozen=True)
class MissingPersonReport:
    """A tracing request filed by a relative."""

    id: UUID
    names: tuple[PersonName, ...]
    sex: str
    date_of_birth: date | None
    estimated_age: int | None
    nationalities: tuple[str, ...]
    languages: tuple[str, ...]
    physical_description: str | None
    last_seen: LastSeen
    enquirer: Enquirer
    sharing_scope: tuple[str, ...]

    def validated(self, today: date) -> MissingPersonReport:
        """A clean copy, or `InvalidField`."""
        _age_rules("", self.date_of_birth, self.estimated_age, today)
        v.not_in_future("last_seen.date", self.last_seen.date, today)
        v.not_before("last_seen.date", self.last_seen.date, "date_of_birth", self.date_of_birth)
        last_seen = replace(
            self.last_seen,
            place=v.clean_text("last_seen.place", self.last_seen.place) or "",
            route=v.clean_text("last_seen.route", self.last_seen.route),
            details=v.clean_text("last_seen.details", self.last_seen.details),
        )
        enquirer = replace(
            self.enquirer,
            name=v.clean_name("enquirer.name", self.enquirer.name),
            contact=v.clean_text("enquirer.contact", self.enquirer.contact) or "",
        )
        return replace(
            self, names=_names("names", self.names), last_seen=last_seen, enquirer=enquirer,
            physical_description=v.clean_text("physical_description",
                                              self.physical_description),
        )

    def is_minor(self, today: date) -> bool:
        """Under 18 today by date of birth or estimated age."""
        return v.is_minor(self.date_of_birth, self.estimated_age, today)


@dataclass(frozen=True)
class FoundPersonRecord:
    """A living person seeking family, or found in a hospital, detention or shelter."""

    id: UUID
    names: tuple[PersonName, ...]
    sex: str
    date_of_birth: date | None
    estimated_age: int | None
    nationalities: tuple[str, ...]
    languages: tuple[str, ...]
    physical_description: str | None
    found_setting: str
    found_place: str
    found_date: date
    sharing_scope: tuple[str, ...]

    def validated(self, today: date) -> FoundPersonRecord:
        """A clean copy, or `InvalidField`."""
        _age_rules("", self.date_of_birth, self.estimated_age, today)
        v.not_in_future("found_date", self.found_date, today)
        v.not_before("found_date", self.found_date, "date_of_birth", self.date_of_birth)
        return replace(
            self, names=_names("names", self.names),
            found_place=v.clean_text("found_place", self.found_place) or "",
            physical_description=v.clean_text("physical_description",
                                              self.physical_description),
        )

    def is_minor(self, today: date) -> bool:
        """Under 18 today by date of birth or estimated age."""
        return v.is_minor(self.date_of_birth, self.estimated_age, today)


@dataclass(frozen=True)
class UnidentifiedRemains:
    """A post-mortem record. DNA stays with the laboratory: only its sample reference is kept."""

    id: UUID
    found_place: str
    found_date: date
    estimated_sex: str
    estimated_age_min: int | None
    estimated_age_max: int | None
    date_of_death: date | None
    date_of_birth: date | None
    post_mortem_interval_days: int | None
    description: str | None
    personal_effects: tuple[str, ...]
    dna_sample_reference: str | None

    def validated(self, today: date) -> UnidentifiedRemains:
        """A clean copy, or `InvalidField`."""
        v.not_in_future("found_date", self.found_date, today)
        v.not_in_future("date_of_death", self.date_of_death, today)
        v.not_in_future("date_of_birth", self.date_of_birth, today)
        v.not_before("date_of_death", self.date_of_death, "date_of_birth", self.date_of_birth)
        v.not_before("found_date", self.found_date, "date_of_death", self.date_of_death)
        v.plausible_age("estimated_age_min", self.estimated_age_min)
        v.plausible_age("estimated_age_max", self.estimated_age_max)
        lo, hi = self.estimated_age_min, self.estimated_age_max
        if lo is not None and hi is not None and lo > hi:
            raise InvalidField("estimated_age_max", "must not be below estimated_age_min",
                               "age-range")
        effects = tuple(v.clean_text(f"personal_effects.{i}", e) or ""
                        for i, e in enumerate(self.personal_effects))
        return replace(
            self, found_place=v.clean_text("found_place", self.found_place) or "",
            description=v.clean_text("description", self.description),
            personal_effects=effects,
        )

    def is_minor(self) -> bool:
        """Whether the estimated age range reaches below 18 (child-sensitive handling)."""
        lo = self.estimated_age_min if self.estimated_age_min is not None else \
            self.estimated_age_max
        return lo is not None and lo < v.ADULT_AGE
