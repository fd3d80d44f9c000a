"""Field comparisons: each field of a record pair falls into one discrete agreement level.

Level ``-1`` means the field is absent on one side; it contributes no weight and is named as
absent in the explanation. Name and attribute fields also return the term frequency of the
value that agreed, so that a common name counts for less than a rare one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler

from .features import Features
from .names import token_similarity

MISSING = -1


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A compared field: its name, level labels (index = level) and the level TF applies to."""

    name: str
    levels: tuple[str, ...]
    tf_levels: tuple[int, ...] = ()


CORE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "given_name", ("different", "weakly similar", "similar or variant", "same name"), (3,)
    ),
    FieldSpec(
        "other_names",
        (
            "no part agrees",
            "one part similar",
            "one part agrees",
            "several parts agree",
            "all parts agree",
        ),
        (2, 3, 4),
    ),
    FieldSpec("sex", ("different", "same")),
    FieldSpec(
        "birth",
        (
            "incompatible",
            "within a year or age range consistent",
            "same year",
            "one digit differs",
            "same year and month",
            "same date",
        ),
    ),
    FieldSpec("nationality", ("different", "same")),
    FieldSpec("languages", ("none shared", "shared")),
    FieldSpec(
        "place_and_time",
        (
            "impossible: found before last seen or died before",
            "implausibly far",
            "plausible",
            "near",
        ),
    ),
    FieldSpec("height", ("ranges disjoint", "ranges overlap", "close")),
    FieldSpec("distinguishing_marks", ("none shared", "shared")),
)
ATTRIBUTE_LEVELS = ("different", "weakly similar", "similar", "same")


class Frequencies:
    """Counts of canonical name tokens and attribute values over the indexed records."""

    def __init__(self, n_attributes: int) -> None:
        self.records = 0
        self.tokens: Counter[str] = Counter()
        self.attrs: list[Counter[str]] = [Counter() for _ in range(n_attributes)]

    def add(self, f: Features) -> None:
        """Count one record's tokens and attribute values."""
        self.records += 1
        self.tokens.update(set(f.tokens))
        for c, v in zip(self.attrs, f.attrs, strict=True):
            if v is not None:
                c[v] += 1

    def remove(self, f: Features) -> None:
        """Forget one record counted by ``add``."""
        self.records -= 1
        self.tokens.subtract(set(f.tokens))
        for c, v in zip(self.attrs, f.attrs, strict=True):
            if v is not None:
                c[v] -= 1

    def token_share(self, token: str) -> float:
        """Share of records carrying this token (at least one record's worth)."""
        n = max(self.records, 1)
        return max(self.tokens.get(token, 0), 1) / n


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(min(1.0, math.sqrt(h)))


def _best(tok: str, others: Sequence[str]) -> float:
    best = 0.0
    for o in others:
        s = token_similarity(tok, o)
        if s > best:
            best = s
            if s == 1.0:
                break
    return best


def compare_names(a: Features, b: Features, freq: Frequencies) -> tuple[int, float, int, float]:
    """Given-name level and TF share, other-names level and TF share (any name order)."""
    g_level, g_token, r_level, exact = name_levels(a.tokens, b.tokens)
    g_tf = freq.token_share(g_token) if g_level == 3 else 0.0
    r_tf = 0.0
    if exact and r_level >= 2:
        r_tf = 1.0
        for t in sorted(exact, key=freq.token_share)[:2]:
            r_tf *= freq.token_share(t)
    return g_level, g_tf, r_level, r_tf


@lru_cache(maxsize=1 << 18)
def name_levels(ta: tuple[str, ...], tb: tuple[str, ...]) -> tuple[int, str, int, tuple[str, ...]]:
    """Name levels of two token lists, the agreeing given name and the exactly agreeing parts.

    Common names recur, so results are cached; term frequencies are applied by the caller.
    """
    if not ta or not tb:
        return MISSING, "", MISSING, ()
    ga, gb = ta[0], tb[0]
    s = token_similarity(ga, gb)
    ra, rb = ta[1:], tb[1:]
    if s < 1.0:  # names in another order: each given name found among the other's names
        sa, sb = _best(ga, tb), _best(gb, ta)
        swapped = min(sa, sb)
        if swapped > s:
            s = swapped
            ra = tuple(t for t in ta if t != gb and token_similarity(t, gb) < 0.9) or ra
            rb = tuple(t for t in tb if t != ga and token_similarity(t, ga) < 0.9) or rb
    g_level = 3 if s == 1.0 else 2 if s >= 0.9 else 1 if s >= 0.8 else 0
    if not ra or not rb:
        return g_level, ga, MISSING, ()
    if len(ra) != len(rb):
        r_level, exact = _rest_level(*((ra, rb) if len(ra) < len(rb) else (rb, ra)))
    else:  # as many parts on each side: the better of both directions (symmetric)
        r_level, exact = max(
            _rest_level(ra, rb), _rest_level(rb, ra), key=lambda x: (x[0], len(x[1]))
        )
    return g_level, ga, r_level, exact


def _rest_level(short: tuple[str, ...], long_: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    """Other-names level: how many of the shorter list's parts agree with the longer list."""
    exact: list[str] = []
    fuzzy = 0
    for t in short:
        if t in long_:
            exact.append(t)
        elif _best(t, long_) >= 0.88:
            fuzzy += 1
    agreed = len(exact) + fuzzy
    if agreed >= 2:
        r_level = 4 if agreed == len(short) else 3
    elif exact:
        r_level = 2
    else:
        r_level = 1 if fuzzy else 0
    return r_level, tuple(exact)


def compare_birth(a: Features, b: Features) -> int:
    """Date-of-birth level; partial dates and estimated age ranges compare as year ranges."""
    if a.by and b.by:
        dy = abs(a.by - b.by)
        if a.bd and b.bd:
            if dy == 0 and a.bm == b.bm:
                return 5 if a.bd == b.bd else 4
            sa = f"{a.by:04d}{a.bm:02d}{a.bd:02d}"
            sb = f"{b.by:04d}{b.bm:02d}{b.bd:02d}"
            if sum(x != y for x, y in zip(sa, sb, strict=True)) == 1 or (
                dy == 0 and a.bm == b.bd and a.bd == b.bm
            ):
                return 3
        elif dy == 0 and a.bm and a.bm == b.bm:
            return 4
        return 2 if dy == 0 else 1 if dy == 1 else 0
    if a.b_lo and b.b_lo:
        return 1 if a.b_lo <= b.b_hi + 1 and b.b_lo <= a.b_hi + 1 else 0
    return MISSING


def _place_time(seen: tuple, found: tuple, death: tuple | None) -> int:
    sday, fday = seen[0], found[0]
    days = None
    if sday is not None and fday is not None:
        days = fday - sday
        if days < -1:
            return 0
    if death is not None and sday is not None and death[1] < sday - 30:
        return 0
    if seen[1] is None or found[1] is None:
        return 2 if days is not None else MISSING
    km = _km(seen[1], seen[2], found[1], found[2])
    if km < 50:
        return 3
    return 2 if days is None or km <= 150 + 150 * max(days, 1) else 1


def compare_place_time(a: Features, b: Features) -> int:
    """Last seen vs found: chronology (found after missing) and distance plausibility."""
    levels = []
    if a.seen and b.found:
        levels.append(_place_time(a.seen, b.found, b.death))
    if b.seen and a.found:
        levels.append(_place_time(b.seen, a.found, a.death))
    levels = [lv for lv in levels if lv != MISSING]
    if levels:
        return min(levels)  # the more contradicting direction decides
    pa, pb = a.seen or a.found, b.seen or b.found
    if pa and pb and pa[1] is not None and pb[1] is not None:
        return 3 if _km(pa[1], pa[2], pb[1], pb[2]) < 50 else 1
    return MISSING


def compare(a: Features, b: Features, freq: Frequencies) -> tuple[list[int], list[float]]:
    """Agreement level of every field (core fields, then attributes) and TF shares."""
    g, g_tf, r, r_tf = compare_names(a, b, freq)
    levels = [g, r]
    tfs = [g_tf, r_tf]
    levels.append(MISSING if not a.sex or not b.sex else int(a.sex == b.sex))
    levels.append(compare_birth(a, b))
    levels.append(MISSING if a.nat is None or b.nat is None else int(a.nat == b.nat))
    levels.append(
        MISSING if a.langs is None or b.langs is None else int(not a.langs.isdisjoint(b.langs))
    )
    levels.append(compare_place_time(a, b))
    if a.height is None or b.height is None:
        levels.append(MISSING)
    else:
        (al, ah), (bl, bh) = a.height, b.height
        if al > bh + 2 or bl > ah + 2:
            levels.append(0)
        else:
            levels.append(2 if abs((al + ah) - (bl + bh)) <= 8 else 1)
    levels.append(
        MISSING if a.marks is None or b.marks is None else int(not a.marks.isdisjoint(b.marks))
    )
    tfs.extend([0.0] * 7)
    for i, (va, vb) in enumerate(zip(a.attrs, b.attrs, strict=True)):
        if va is None or vb is None:
            levels.append(MISSING)
            tfs.append(0.0)
        elif va == vb:
            levels.append(3)
            counts = freq.attrs[i]
            tfs.append(max(counts.get(va, 1), 1) / max(freq.records, 1))
        else:
            s = JaroWinkler.normalized_similarity(va, vb)
            levels.append(2 if s >= 0.92 else 1 if s >= 0.8 else 0)
            tfs.append(0.0)
    return levels, tfs


def field_specs(attribute_names: Sequence[str]) -> tuple[FieldSpec, ...]:
    """All compared fields for a given list of attribute names."""
    return CORE_FIELDS + tuple(FieldSpec(n, ATTRIBUTE_LEVELS, (3,)) for n in attribute_names)
