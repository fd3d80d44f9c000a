"""Seeded synthetic migrant records with ground truth, for tests and benchmarks.

A population of people on migration routes (Horn of Africa, Sudan, Syria, Afghanistan, West
Africa) is drawn with realistic naming: given name plus father's and grandfather's names where
patronymic naming is the custom, family names elsewhere, with siblings as decoys sharing
those names. Relatives file missing-person reports; some people are later found alive or as
remains, recorded by someone else with the usual damage: another romanisation, native script,
swapped name order, dropped name parts, typos, partial dates, age estimates, missing fields.
Many found people and remains were never reported, and many reports never find a match.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from .records import AgeEstimate, BirthDate, PersonRecord, RecordKind, Sighting
from .synthetic_names import (
    AFGHAN_FAMILY,
    AFGHAN_FEMALE,
    AFGHAN_MALE,
    ARABIC_FEMALE,
    ARABIC_MALE,
    CYRILLIC,
    HORN_FEMALE,
    HORN_MALE,
    SOMALI_FEMALE,
    SOMALI_MALE,
    SYRIAN_FAMILY,
    WEST_FAMILY,
    WEST_FEMALE,
    WEST_MALE,
    parse_pool,
)

Pool = list[tuple[list[str], str | None]]

_ROUTES = {
    "central": [
        (15.50, 32.56),
        (24.20, 23.30),
        (27.04, 14.43),
        (32.89, 13.19),
        (32.93, 12.08),
        (35.50, 12.60),
        (37.50, 15.09),
    ],
    "western": [
        (12.64, -8.00),
        (16.97, 7.99),
        (20.90, -17.05),
        (23.70, -15.90),
        (27.95, -15.60),
        (28.30, -16.50),
    ],
    "eastern": [
        (34.50, 69.20),
        (35.70, 51.40),
        (38.50, 43.40),
        (41.00, 28.98),
        (38.40, 27.10),
        (39.10, 26.50),
    ],
    "levant": [
        (33.50, 36.30),
        (37.07, 37.38),
        (41.00, 28.98),
        (38.40, 27.10),
        (39.10, 26.50),
        (41.00, 26.30),
    ],
}


@dataclass(frozen=True)
class _Origin:
    country: str
    male: Pool
    female: Pool
    family: Pool | None  # None: patronymic naming (father's and grandfather's names)
    languages: tuple[str, ...]
    route: str
    weight: float


def _origins() -> list[_Origin]:
    arab_m, arab_f = parse_pool(ARABIC_MALE), parse_pool(ARABIC_FEMALE)
    horn_m, horn_f = parse_pool(HORN_MALE), parse_pool(HORN_FEMALE)
    west_m, west_f, west_fam = (
        parse_pool(WEST_MALE),
        parse_pool(WEST_FEMALE),
        parse_pool(WEST_FAMILY),
    )
    return [
        _Origin(
            "so",
            parse_pool(SOMALI_MALE),
            parse_pool(SOMALI_FEMALE),
            None,
            ("somali", "arabic"),
            "central",
            0.15,
        ),
        _Origin("er", horn_m, horn_f, None, ("tigrinya", "arabic"), "central", 0.15),
        _Origin("et", horn_m, horn_f, None, ("amharic", "oromo"), "central", 0.08),
        _Origin("sd", arab_m, arab_f, None, ("arabic",), "central", 0.15),
        _Origin(
            "sy", arab_m, arab_f, parse_pool(SYRIAN_FAMILY), ("arabic", "kurdish"), "levant", 0.15
        ),
        _Origin(
            "af",
            parse_pool(AFGHAN_MALE),
            parse_pool(AFGHAN_FEMALE),
            parse_pool(AFGHAN_FAMILY),
            ("pashto", "dari"),
            "eastern",
            0.15,
        ),
        _Origin("gn", west_m, west_f, west_fam, ("french", "fula"), "western", 0.10),
        _Origin("gm", west_m, west_f, west_fam, ("english", "mandinka"), "western", 0.07),
    ]


_MARKS = [
    "scar left forearm",
    "scar right cheek",
    "tattoo cross right hand",
    "missing front tooth",
    "burn mark left leg",
    "birthmark neck",
    "tattoo name chest",
    "gold tooth",
    "scar forehead",
    "pierced left ear",
    "six toes right foot",
    "limp right leg",
]


@dataclass
class _Person:
    pid: int
    origin: _Origin
    sex: str
    names: list[tuple[list[str], str | None]]  # given, father/family, grandfather
    spelling: list[int]  # the person's own usual spelling of each name part
    birth: dt.date
    height: int
    marks: list[str]
    route_pos: int
    last_seen: dt.date


@dataclass
class SyntheticData:
    """Reports from relatives (left) and found persons and remains (right), with truth."""

    reports: list[PersonRecord]
    found: list[PersonRecord]
    person_of: dict[str, int] = field(default_factory=dict)

    def true_pairs(self) -> set[tuple[str, str]]:
        """(report id, found id) pairs describing the same person."""
        by_person: dict[int, list[str]] = defaultdict(list)
        for r in self.reports:
            by_person[self.person_of[r.record_id]].append(r.record_id)
        return {
            (a, f.record_id)
            for f in self.found
            for a in by_person.get(self.person_of[f.record_id], ())
        }


def _zipf(rng: random.Random, n: int) -> int:
    # Name popularity is heavily skewed: a few names cover much of the population.
    return min(int(n * rng.random() ** 1.8), n - 1)


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.randrange(4)
    if op == 0:
        return s[:i] + rng.choice("aeioulnrstmhk") + s[i + 1 :]
    if op == 1:
        return s[:i] + s[i + 1 :]
    if op == 2:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + s[i] + s[i:]


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - seeded test data
        self.origins = _origins()
        self.weights = [o.weight for o in self.origins]
        self.pid = 0

    def person(self, sibling_of: _Person | None = None) -> _Person:
        rng = self.rng
        o = sibling_of.origin if sibling_of else rng.choices(self.origins, self.weights)[0]
        sex = rng.choice("mf")
        pool = o.male if sex == "m" else o.female
        given = pool[_zipf(rng, len(pool))]
        if sibling_of:
            names = [given, *sibling_of.names[1:]]
            spelling = [0, *sibling_of.spelling[1:]]
            gap = rng.choice([-1, 1]) * rng.randint(300, 4000)
            birth = sibling_of.birth + dt.timedelta(days=gap)
        else:
            if o.family is None:
                rest = [o.male[_zipf(rng, len(o.male))], o.male[_zipf(rng, len(o.male))]]
            else:  # given name, father's name, family name
                rest = [o.male[_zipf(rng, len(o.male))], o.family[_zipf(rng, len(o.family))]]
            names = [given, *rest]
            spelling = [0 if rng.random() < 0.6 else rng.randrange(len(n[0])) for n in names]
            birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(45 * 365))
        spelling[0] = 0 if rng.random() < 0.6 else rng.randrange(len(given[0]))
        route = _ROUTES[o.route]
        pos = rng.randrange(len(route) - 2)
        last = dt.date(2014, 1, 1) + dt.timedelta(days=rng.randrange(10 * 365))
        self.pid += 1
        return _Person(
            self.pid,
            o,
            sex,
            names,
            spelling,
            birth,
            rng.randint(150, 190) if sex == "m" else rng.randint(145, 178),
            rng.sample(_MARKS, rng.choice([0, 0, 1, 1, 2])),
            pos,
            last,
        )

    def _name(self, p: _Person, i: int, p_variant: float, p_script: float, p_typo: float) -> str:
        rng = self.rng
        spellings, script = p.names[i]
        if script and rng.random() < p_script:
            return script
        s = spellings[p.spelling[i]]
        if rng.random() < p_variant:
            s = rng.choice(spellings)
            if rng.random() < 0.05 and spellings[0] in CYRILLIC:
                s = CYRILLIC[spellings[0]]
        if rng.random() < p_typo:
            s = _typo(rng, s)
        return s

    def _names(self, p: _Person, official: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
        rng = self.rng
        pv, ps, pt = (0.35, 0.06, 0.1) if official else (0.1, 0.04, 0.04)
        parts = [self._name(p, i, pv, ps, pt) for i in range(len(p.names))]
        if len(parts) == 3 and rng.random() < (0.35 if official else 0.15):
            parts.pop(2 if p.origin.family is None else 1)  # grandfather's or father's name
        if rng.random() < (0.15 if official else 0.03) and len(parts) > 1:
            return (parts[1],), (parts[0], *parts[2:])  # family/father's name written first
        return (parts[0],), tuple(parts[1:])

    def _point(self, route: str, pos: int, km: float) -> tuple[float, float]:
        lat, lon = _ROUTES[route][pos]
        d = km / 111.0
        return lat + self.rng.uniform(-d, d), lon + self.rng.uniform(-d, d)

    def report(self, p: _Person, rid: str) -> PersonRecord:
        rng = self.rng
        given, family = self._names(p, official=False)
        r = rng.random()
        b = p.birth
        birth = (
            BirthDate(b.year, b.month, b.day)
            if r < 0.6
            else BirthDate(b.year, b.month)
            if r < 0.7
            else BirthDate(b.year)
            if r < 0.9
            else None
        )
        lat, lon = self._point(p.origin.route, p.route_pos, 30)
        return PersonRecord(
            rid,
            RecordKind.MISSING_PERSON_REPORT,
            given,
            family,
            sex=p.sex if rng.random() > 0.03 else None,
            birth_date=birth,
            nationality=p.origin.country if rng.random() > 0.05 else None,
            languages=p.origin.languages if rng.random() > 0.3 else (),
            last_seen=Sighting(p.last_seen, lat, lon),
            height_cm=(p.height - 4, p.height + 4) if rng.random() < 0.6 else None,
            distinguishing_marks=tuple(p.marks) if rng.random() < 0.7 else (),
        )

    def found_record(self, p: _Person, rid: str, remains: bool) -> PersonRecord:
        rng = self.rng
        route = _ROUTES[p.origin.route]
        pos = min(len(route) - 1, p.route_pos + rng.randint(0, 3))
        lat, lon = self._point(p.origin.route, pos, 40)
        days = 1 + int(rng.expovariate(1 / 90)) + 2 * abs(pos - p.route_pos) * 7
        found_on = p.last_seen + dt.timedelta(days=days)
        age = (found_on - p.birth).days / 365.25
        given: tuple[str, ...] = ()
        family: tuple[str, ...] = ()
        if not remains or rng.random() < 0.25:  # remains: names only from documents found
            given, family = self._names(p, official=True)
        birth, estimate, pmi = None, None, None
        r = rng.random()
        if remains or r < 0.25:
            width = rng.randint(3, 8)
            centre = age + rng.gauss(0, 3 if remains else 2.5)
            estimate = AgeEstimate(max(0, int(centre - width)), int(centre + width), found_on)
        elif r < 0.65:
            birth = BirthDate(p.birth.year, p.birth.month, p.birth.day)
            if rng.random() < 0.08:  # day and month written the other way round
                if p.birth.day <= 12:
                    birth = BirthDate(p.birth.year, p.birth.day, p.birth.month)
        elif r < 0.9:
            birth = BirthDate(p.birth.year + (rng.choice([-1, 1]) if rng.random() < 0.15 else 0))
        if remains:
            dead = rng.randint(2, max(3, min(days, 400)))
            pmi = (max(0, int(dead * 0.5)), int(dead * 1.5) + 5)
        h = p.height + rng.randint(-3, 3)
        return PersonRecord(
            rid,
            RecordKind.UNIDENTIFIED_REMAINS if remains else RecordKind.FOUND_PERSON,
            given,
            family,
            sex=p.sex if rng.random() > 0.08 else None,
            birth_date=birth,
            age_estimate=estimate,
            nationality=(p.origin.country if rng.random() > 0.3 else None) if not remains else None,
            languages=p.origin.languages[:1] if not remains and rng.random() > 0.4 else (),
            found=Sighting(found_on, lat, lon),
            height_cm=(h - 5, h + 5) if remains or rng.random() < 0.3 else None,
            distinguishing_marks=tuple(m for m in p.marks if rng.random() < 0.7),
            post_mortem_interval_days=pmi,
        )


def generate(size: int, seed: int = 0) -> SyntheticData:
    """About ``size`` records: half reports, half found persons and remains, with truth."""
    g = _Generator(seed)
    rng = g.rng
    data = SyntheticData([], [])
    people: list[_Person] = []
    n_reported = int(size * 0.5 / 1.15)
    while len(people) < n_reported:
        p = g.person()
        people.append(p)
        if rng.random() < 0.12:  # a sibling on the same journey, also reported
            people.append(g.person(sibling_of=p))
    for p in people:
        for _ in range(2 if rng.random() < 0.15 else 1):
            rid = f"R{len(data.reports)}"
            data.reports.append(g.report(p, rid))
            data.person_of[rid] = p.pid
    target_found = size - len(data.reports)
    for p in people:
        if rng.random() < 0.4 and len(data.found) < target_found:
            rid = f"F{len(data.found)}"
            data.found.append(g.found_record(p, rid, remains=rng.random() < 0.25))
            data.person_of[rid] = p.pid
    while len(data.found) < target_found:  # never reported; siblings of reported people too
        p = g.person(sibling_of=rng.choice(people) if rng.random() < 0.1 else None)
        rid = f"F{len(data.found)}"
        data.found.append(g.found_record(p, rid, remains=rng.random() < 0.25))
        data.person_of[rid] = p.pid
    return data
