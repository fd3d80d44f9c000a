"""Column-wise comparison of many record pairs at once (batch linkage).

Gives the same levels as ``comparison.compare`` pair by pair, but computes every field except
names on numpy columns, and attribute similarity with rapidfuzz's pairwise ``cpdist``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from .comparison import MISSING, Frequencies, compare_names
from .features import Features

_LANGUAGE_BITS: dict[str, int] = {}


def _bits(langs: frozenset[str] | None) -> int:
    if not langs:
        return 0
    out = 0
    for x in langs:
        out |= 1 << _LANGUAGE_BITS.setdefault(x, len(_LANGUAGE_BITS) % 63)
    return out


class Columns:
    """Numeric columns of a list of prepared records (NaN or 0 where absent)."""

    def __init__(self, feats: Sequence[Features], nationality_codes: dict[str, int]) -> None:
        n = len(feats)
        nan = np.nan
        self.sex = np.fromiter((f.sex for f in feats), np.int8, n)
        self.by = np.fromiter((f.by for f in feats), np.int32, n)
        self.bm = np.fromiter((f.bm for f in feats), np.int32, n)
        self.bd = np.fromiter((f.bd for f in feats), np.int32, n)
        self.b_lo = np.fromiter((f.b_lo for f in feats), np.int32, n)
        self.b_hi = np.fromiter((f.b_hi for f in feats), np.int32, n)
        self.nat = np.fromiter((-1 if f.nat is None else nationality_codes.setdefault(
            f.nat, len(nationality_codes)) for f in feats), np.int32, n)
        self.langs = np.fromiter((_bits(f.langs) for f in feats), np.int64, n)
        for name in ("seen", "found"):
            rows = [getattr(f, name) for f in feats]
            setattr(self, name + "_has", np.fromiter((r is not None for r in rows), bool, n))
            for i, part in enumerate(("day", "lat", "lon")):
                setattr(self, f"{name}_{part}", np.fromiter(
                    (nan if r is None or r[i] is None else r[i] for r in rows), np.float64, n))
        self.death_hi = np.fromiter((nan if f.death is None else f.death[1] for f in feats),
                                    np.float64, n)
        self.h_lo = np.fromiter((nan if f.height is None else f.height[0] for f in feats),
                                np.float64, n)
        self.h_hi = np.fromiter((nan if f.height is None else f.height[1] for f in feats),
                                np.float64, n)


def _km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2)
    return 12742.0 * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def _birth(a: Columns, b: Columns, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    aby, bby, abm, bbm, abd, bbd = a.by[i], b.by[j], a.bm[i], b.bm[j], a.bd[i], b.bd[j]
    out = np.full(len(i), MISSING, np.int64)
    ranges = (a.b_lo[i] > 0) & (b.b_lo[j] > 0)
    overlap = (a.b_lo[i] <= b.b_hi[j] + 1) & (b.b_lo[j] <= a.b_hi[i] + 1)
    out[ranges] = overlap[ranges].astype(np.int64)
    both = (aby > 0) & (bby > 0)
    dy = np.abs(aby - bby)
    out[both] = np.where(dy == 0, 2, np.where(dy == 1, 1, 0))[both]
    full = both & (abd > 0) & (bbd > 0)
    da, db = aby * 10000 + abm * 100 + abd, bby * 10000 + bbm * 100 + bbd
    differing = sum(((da // 10**k) % 10 != (db // 10**k) % 10).astype(np.int64) for k in range(8))
    near = (differing == 1) | ((dy == 0) & (abm == bbd) & (abd == bbm))
    same_ym = (dy == 0) & (abm == bbm)
    out[full & near] = 3
    out[full & same_ym] = np.where(abd == bbd, 5, 4)[full & same_ym]
    partial_ym = both & ~full & (dy == 0) & (abm > 0) & (abm == bbm)
    out[partial_ym] = 4
    return out


def _place_time_dir(s: Columns, f: Columns, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    out = np.full(len(i), MISSING, np.int64)
    valid = s.seen_has[i] & f.found_has[j]
    sday, fday = s.seen_day[i], f.found_day[j]
    days = fday - sday
    with np.errstate(invalid="ignore"):
        coords = ~np.isnan(s.seen_lat[i]) & ~np.isnan(f.found_lat[j])
        km = _km(s.seen_lat[i], s.seen_lon[i], f.found_lat[j], f.found_lon[j])
        has_days = ~np.isnan(days)
        plausible = ~has_days | (km <= 150 + 150 * np.maximum(np.nan_to_num(days), 1))
        out[valid & ~coords & has_days] = 2
        out[valid & coords] = np.where(km < 50, 3, np.where(plausible, 2, 1))[valid & coords]
        died_before = f.death_hi[j] < sday - 30
        out[valid & (np.nan_to_num(days, nan=0.0) < -1)] = 0
        out[valid & died_before] = 0
    return out


def _place_time(a: Columns, b: Columns, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    d1, d2 = _place_time_dir(a, b, i, j), _place_time_dir(b, a, j, i)
    big = 99
    best = np.minimum(np.where(d1 < 0, big, d1), np.where(d2 < 0, big, d2))
    out = np.where(best == big, MISSING, best)
    fallback = out == MISSING
    pa_lat = np.where(a.seen_has[i], a.seen_lat[i], a.found_lat[i])
    pa_lon = np.where(a.seen_has[i], a.seen_lon[i], a.found_lon[i])
    pb_lat = np.where(b.seen_has[j], b.seen_lat[j], b.found_lat[j])
    pb_lon = np.where(b.seen_has[j], b.seen_lon[j], b.found_lon[j])
    has_a = a.seen_has[i] | a.found_has[i]
    has_b = b.seen_has[j] | b.found_has[j]
    ok = fallback & has_a & has_b & ~np.isnan(pa_lat) & ~np.isnan(pb_lat)
    if ok.any():
        km = _km(pa_lat[ok], pa_lon[ok], pb_lat[ok], pb_lon[ok])
        out[ok] = np.where(km < 50, 3, 1)
    return out


def compare_pairs(left: Sequence[Features], right: Sequence[Features], lc: Columns,
                  rc: Columns, pairs: np.ndarray, freq: Frequencies
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Levels and TF shares of every pair (rows of left index, right index)."""
    n_attr = len(left[0].attrs) if left else 0
    n = len(pairs)
    levels = np.full((n, 9 + n_attr), MISSING, np.int8)  # compact: millions of pairs
    tfs = np.zeros((n, 9 + n_attr), np.float32)
    i, j = pairs[:, 0], pairs[:, 1]
    for k, (a, b) in enumerate(pairs.tolist()):
        levels[k, 0], tfs[k, 0], levels[k, 1], tfs[k, 1] = compare_names(left[a], right[b], freq)
    sa, sb = lc.sex[i], rc.sex[j]
    levels[:, 2] = np.where((sa > 0) & (sb > 0), (sa == sb).astype(np.int64), MISSING)
    levels[:, 3] = _birth(lc, rc, i, j)
    na, nb = lc.nat[i], rc.nat[j]
    levels[:, 4] = np.where((na >= 0) & (nb >= 0), (na == nb).astype(np.int64), MISSING)
    la, lb = lc.langs[i], rc.langs[j]
    levels[:, 5] = np.where((la != 0) & (lb != 0), ((la & lb) != 0).astype(np.int64), MISSING)
    levels[:, 6] = _place_time(lc, rc, i, j)
    al, ah, bl, bh = lc.h_lo[i], lc.h_hi[i], rc.h_lo[j], rc.h_hi[j]
    with np.errstate(invalid="ignore"):
        disjoint = (al > bh + 2) | (bl > ah + 2)
        close = np.abs((al + ah) - (bl + bh)) <= 8
    has_h = ~np.isnan(al) & ~np.isnan(bl)
    levels[has_h, 7] = np.where(disjoint, 0, np.where(close, 2, 1))[has_h]
    for k, (a, b) in enumerate(pairs.tolist()):
        ma, mb = left[a].marks, right[b].marks
        if ma is not None and mb is not None:
            levels[k, 8] = int(not ma.isdisjoint(mb))
    for t in range(n_attr):
        va = [left[a].attrs[t] for a in i.tolist()]
        vb = [right[b].attrs[t] for b in j.tolist()]
        present = np.fromiter((x is not None and y is not None for x, y in zip(va, vb,
                                                                                  strict=True)),
                              bool, n)
        idx = np.flatnonzero(present)
        if not len(idx):
            continue
        xs = [va[k] for k in idx.tolist()]
        ys = [vb[k] for k in idx.tolist()]
        sim = cpdist(xs, ys, scorer=JaroWinkler.normalized_similarity, workers=1)
        equal = np.fromiter((x == y for x, y in zip(xs, ys, strict=True)), bool, len(xs))
        col = np.where(equal, 3, np.where(sim >= 0.92, 2, np.where(sim >= 0.8, 1, 0)))
        levels[idx, 9 + t] = col
        counts, total = freq.attrs[t], max(freq.records, 1)
        tfs[idx[equal], 9 + t] = [max(counts.get(x, 1), 1) / total
                                  for x, e in zip(xs, equal, strict=True) if e]
    return levels, tfs
