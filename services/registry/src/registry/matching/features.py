"""Compact, comparison-ready form of a person record.

A ``Features`` object holds only what comparisons need — interned canonical name tokens,
small integers and floats — so a million of them fit comfortably in memory.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence

from .names import name_tokens
from .records import PersonRecord, RecordKind, Sighting

MAX_NAME_TOKENS = 8
_EPOCH = dt.date(1900, 1, 1).toordinal()
_SEX = {"m": 1, "male": 1, "f": 2, "female": 2}
_KINDS = {k: i for i, k in enumerate(RecordKind)}


def _day(d: dt.date | None) -> int | None:
    return None if d is None else d.toordinal() - _EPOCH


def _sighting(s: Sighting | None) -> tuple[int | None, float | None, float | None] | None:
    if s is None or (s.date is None and (s.lat is None or s.lon is None)):
        return None
    if s.lat is None or s.lon is None:
        return (_day(s.date), None, None)
    return (_day(s.date), float(s.lat), float(s.lon))


def _norm_term(text: str) -> str:
    return " ".join(sorted(name_tokens([text])))


class Features:
    """Prepared record: canonical name tokens (given name first), birth fields as ints..."""

    __slots__ = (
        "record_id",
        "kind",
        "tokens",
        "sex",
        "by",
        "bm",
        "bd",
        "b_lo",
        "b_hi",
        "nat",
        "langs",
        "seen",
        "found",
        "death",
        "height",
        "marks",
        "attrs",
    )

    def __init__(self, record: PersonRecord, attribute_names: Sequence[str]) -> None:
        intern = sys.intern
        self.record_id = record.record_id
        self.kind = _KINDS[record.kind]
        given = [intern(t) for t in name_tokens(record.given_names)]
        rest = [intern(t) for t in name_tokens(record.family_names)]
        rest += [
            intern(t) for t in name_tokens(record.other_names) if t not in rest and t not in given
        ]
        if not given and rest:  # a single unlabelled name: its first part acts as given name
            given, rest = rest[:1], rest[1:]
        # Given name first; a bounded number of parts keeps batch comparison arrays small.
        self.tokens: tuple[str, ...] = tuple(given + rest)[:MAX_NAME_TOKENS]
        self.sex = _SEX.get((record.sex or "").strip().lower(), 0)
        b = record.birth_date
        self.by = b.year if b else 0
        self.bm = (b.month or 0) if b else 0
        self.bd = (b.day or 0) if b and b.month else 0
        if b:
            self.b_lo, self.b_hi = b.year, b.year
        elif record.age_estimate is not None:
            a = record.age_estimate
            self.b_lo = a.on.year - max(a.low, a.high) - 1
            self.b_hi = a.on.year - min(a.low, a.high)
        else:
            self.b_lo = self.b_hi = 0
        self.nat = intern(record.nationality.strip().lower()) if record.nationality else None
        langs = frozenset(x.strip().lower() for x in record.languages if x.strip())
        self.langs = langs or None
        self.seen = _sighting(record.last_seen)
        self.found = _sighting(record.found)
        pmi = record.post_mortem_interval_days
        fday = self.found[0] if self.found else None
        self.death = (fday - max(pmi), fday - min(pmi)) if pmi and fday is not None else None
        self.height = tuple(sorted(record.height_cm)) if record.height_cm else None
        marks = frozenset(_norm_term(m) for m in record.distinguishing_marks if m.strip())
        self.marks = marks or None
        attrs = []
        for name in attribute_names:
            v = record.attributes.get(name)
            v = " ".join(v.lower().split()) if v else ""
            attrs.append(intern(v) if v else None)
        self.attrs: tuple[str | None, ...] = tuple(attrs)
