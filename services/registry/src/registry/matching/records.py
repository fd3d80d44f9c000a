"""Person records as the matching engine sees them.

These are plain value objects: the registry maps its own stored rows (missing-person reports,
found-person records, unidentified remains) onto them. Every field except ``record_id`` may be
absent; the matcher scores what is present and names what is absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class RecordKind(StrEnum):
    """What a record describes; decides which place/time comparisons make sense."""

    MISSING_PERSON_REPORT = "missing"  # filed by a relative: last seen place and date
    FOUND_PERSON = "found"  # a living person found (hospital, detention, shelter)
    UNIDENTIFIED_REMAINS = "remains"  # post-mortem record: found place and date, age estimate
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth known to year, year-month or full date precision."""

    year: int
    month: int | None = None
    day: int | None = None


@dataclass(frozen=True, slots=True)
class AgeEstimate:
    """An estimated age range in years, as assessed on a given date (e.g. a forensic estimate)."""

    low: int
    high: int
    on: dt.date


@dataclass(frozen=True, slots=True)
class Sighting:
    """A place and date: where a person was last seen, or where a person or remains were found."""

    date: dt.date | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One record to match.

    ``given_names`` are the person's own names; ``family_names`` hold, in order, the family
    name or the father's and grandfather's names (patronymic naming); ``other_names`` hold
    aliases and names of unknown role. Names may be in any script and any order.
    ``attributes`` carries further comparable strings (birth place, document number, address,
    occupation...), each compared with its own learned weights.
    """

    record_id: str
    kind: RecordKind = RecordKind.OTHER
    given_names: tuple[str, ...] = ()
    family_names: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()
    sex: str | None = None  # "m", "f" or None
    birth_date: BirthDate | None = None
    age_estimate: AgeEstimate | None = None
    nationality: str | None = None
    languages: tuple[str, ...] = ()
    last_seen: Sighting | None = None
    found: Sighting | None = None
    height_cm: tuple[int, int] | None = None  # range, e.g. an estimate from remains
    distinguishing_marks: tuple[str, ...] = ()  # terms such as "scar left forearm"
    post_mortem_interval_days: tuple[int, int] | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
