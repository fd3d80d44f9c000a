"""Column-wise comparison of many record pairs at once (batch linkage).

Gives the same levels as ``comparison.compare`` pair by pair, but computes every field except
names on numpy columns, and attribute similarity with rapidfuzz's pairwise ``cpdist``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from .comparison import MISSING, Frequencies
from .features import Features
from .names import REPRESENTATIVES, is_consonantal, skeleton

_LANGUAGE_BITS: dict[str, int] = {}


def _bits(langs: frozenset[str] | None) -> int:
    if not langs:
        return 0
    out = 0
    for x in langs:
        out |= 1 << _LANGUAGE_BITS.setdefault(x, len(_LANGUAGE_BITS) % 63)
    return out


def _code(codes: dict, key: tuple[str, str]) -> int:
    c = codes.get(key)
    if c is None:
        c = codes[key] = len(codes)
    return c


class Columns:
    """Numeric columns of a list of prepared records (NaN, 0 or -1 where absent).

    ``codes`` is a vocabulary shared by the column sets that are compared with each other:
    it gives every name token, nationality and attribute value one integer code.
    """

    def __init__(self, feats: Sequence[Features], codes: dict) -> None:
        n = len(feats)
        nan = np.nan
        self.codes = codes
        width = max((len(f.tokens) for f in feats), default=0)
        tok = np.full((n, max(width, 1)), -1, np.int32)
        for r, f in enumerate(feats):
            for k, t in enumerate(f.tokens):
                tok[r, k] = _code(codes, ("t", t))
        self.tokens = tok
        n_attr = len(feats[0].attrs) if feats else 0
        self.attrs = np.full((n, n_attr), -1, np.int32)
        for r, f in enumerate(feats):
            for k, v in enumerate(f.attrs):
                if v is not None:
                    self.attrs[r, k] = _code(codes, (f"a{k}", v))
        self.has_marks = np.fromiter((f.marks is not None for f in feats), bool, n)
        self.sex = np.fromiter((f.sex for f in feats), np.int8, n)
        self.by = np.fromiter((f.by for f in feats), np.int32, n)
        self.bm = np.fromiter((f.bm for f in feats), np.int32, n)
        self.bd = np.fromiter((f.bd for f in feats), np.int32, n)
        self.b_lo = np.fromiter((f.b_lo for f in feats), np.int32, n)
        self.b_hi = np.fromiter((f.b_hi for f in feats), np.int32, n)
        self.nat = np.fromiter(
            (-1 if f.nat is None else _code(codes, ("n", f.nat)) for f in feats), np.int32, n
        )
        self.langs = np.fromiter((_bits(f.langs) for f in feats), np.int64, n)
        for name in ("seen", "found"):
            rows = [getattr(f, name) for f in feats]
            setattr(self, name + "_has", np.fromiter((r is not None for r in rows), bool, n))
            for i, part in enumerate(("day", "lat", "lon")):
                setattr(
                    self,
                    f"{name}_{part}",
                    np.fromiter(
                        (nan if r is None or r[i] is None else r[i] for r in rows), np.float64, n
                    ),
                )
        self.death_hi = np.fromiter(
            (nan if f.death is None else f.death[1] for f in feats), np.float64, n
        )
        self.h_lo = np.fromiter(
            (nan if f.height is None else f.height[0] for f in feats), np.float64, n
        )
        self.h_hi = np.fromiter(
            (nan if f.height is None else f.height[1] for f in feats), np.float64, n
        )


def _km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
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


class _Vocabulary:
    """Properties of every code of a shared vocabulary under given frequencies."""

    def __init__(self, codes: dict, freq: Frequencies) -> None:
        n = len(codes)
        self.size = n
        self.freq_records = freq.records
        self.text = [""] * n
        self.cons = np.zeros(n, bool)
        self.rep = np.zeros(n, bool)
        self.skel = np.full(n, -1, np.int64)
        self.share = np.ones(n, np.float64)
        self.skel_text: list[str] = []
        skel_codes: dict[str, int] = {}
        total = max(freq.records, 1)
        for (space, value), c in codes.items():
            self.text[c] = value
            if space == "t":
                self.cons[c] = is_consonantal(value)
                self.rep[c] = value in REPRESENTATIVES
                sk = skeleton(value)
                code = skel_codes.get(sk)
                if code is None:
                    code = skel_codes[sk] = len(self.skel_text)
                    self.skel_text.append(sk)
                self.skel[c] = code
                self.share[c] = max(freq.tokens.get(value, 0), 1) / total
            elif space[0] == "a":
                self.share[c] = max(freq.attrs[int(space[1:])].get(value, 1), 1) / total

    @classmethod
    def of(cls, cols: Columns, freq: Frequencies) -> _Vocabulary:
        """The vocabulary of ``cols``, reused while neither it nor the frequencies grew."""
        v = getattr(cols, "_vocabulary", None)
        if (
            v is None
            or v.size != len(cols.codes)
            or v.freq is not freq
            or v.freq_records != freq.records
        ):
            v = cls(cols.codes, freq)
            v.freq = freq
            cols._vocabulary = v  # noqa: SLF001 - a cache on our own object
        return v


def _jw(xs: list[str], ys: list[str]) -> np.ndarray:
    return cpdist(xs, ys, scorer=JaroWinkler.normalized_similarity, dtype=np.float64, workers=1)


def _token_similarity(v: _Vocabulary, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``names.token_similarity`` of many token-code pairs at once."""
    out = np.ones(len(a))
    ne = np.flatnonzero(a != b)
    if not len(ne):
        return out
    a2, b2 = a[ne], b[ne]
    text = v.text
    s = _jw([text[x] for x in a2.tolist()], [text[y] for y in b2.tolist()])
    skel_eq = v.skel[a2] == v.skel[b2]
    rep = v.rep[a2] & v.rep[b2]
    s = np.where(rep, np.minimum(s, 0.85), np.where((s >= 0.8) & (s < 0.9) & skel_eq, 0.9, s))
    cons = np.flatnonzero(v.cons[a2] | v.cons[b2])
    if len(cons):
        sk = v.skel_text
        sc = 0.8 * _jw(
            [sk[x] for x in v.skel[a2[cons]].tolist()], [sk[y] for y in v.skel[b2[cons]].tolist()]
        )
        s[cons] = np.where(skel_eq[cons], 0.95, sc)
    out[ne] = s
    return out


def _rest_level(
    mx: np.ndarray,
    my: np.ndarray,
    tx: np.ndarray,
    ty: np.ndarray,
    sim: np.ndarray,
    share: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Other-names level with the x side as the shorter list (``comparison._rest_level``)."""
    exact = ((tx[:, :, None] == ty[:, None, :]) & my[:, None, :]).any(2) & mx
    best = np.where(my[:, None, :], sim, -1.0).max(2)
    fuzzy = mx & ~exact & (best >= 0.88)
    n_exact, n_fuzzy = exact.sum(1), fuzzy.sum(1)
    agreed = n_exact + n_fuzzy
    level = np.where(
        agreed >= 2,
        np.where(agreed == mx.sum(1), 4, 3),
        np.where(n_exact > 0, 2, np.where(n_fuzzy > 0, 1, 0)),
    )
    shares = np.sort(np.where(exact, share[np.maximum(tx, 0)], np.inf), axis=1)
    tf = np.where(n_exact >= 1, shares[:, 0], 1.0)
    if shares.shape[1] > 1:
        tf = tf * np.where(n_exact >= 2, shares[:, 1], 1.0)
    tf = np.where((level >= 2) & (n_exact > 0), tf, 0.0)
    return level, n_exact, tf


def _compare_names(
    v: _Vocabulary, ta: np.ndarray, tb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``comparison.compare_names`` of many pairs (rows of token codes, -1 padded)."""
    m, ka, kb = len(ta), ta.shape[1], tb.shape[1]
    va, vb = ta >= 0, tb >= 0
    valid = va[:, :, None] & vb[:, None, :]
    width = np.int64(max(v.size, 1))
    pair_codes = ta[:, :, None].astype(np.int64) * width + tb[:, None, :]
    flat = pair_codes[valid]
    uniq, inverse = np.unique(flat, return_inverse=True)
    sim = np.full((m, ka, kb), -1.0)
    sim[valid] = _token_similarity(v, uniq // width, uniq % width)[inverse]
    named = va[:, 0] & vb[:, 0]
    s00 = sim[:, 0, 0]
    swapped = np.minimum(sim[:, 0, :].max(1), sim[:, :, 0].max(1))
    use = (s00 < 1.0) & (swapped > s00)
    s = np.where(use, swapped, s00)
    g = np.where(s == 1.0, 3, np.where(s >= 0.9, 2, np.where(s >= 0.8, 1, 0)))
    ra, rb = va.copy(), vb.copy()
    ra[:, 0] = False
    rb[:, 0] = False
    ra_sw = va & (sim[:, :, 0] < 0.9)
    rb_sw = vb & (sim[:, 0, :] < 0.9)
    ra = np.where((use & ra_sw.any(1))[:, None], ra_sw, ra)
    rb = np.where((use & rb_sw.any(1))[:, None], rb_sw, rb)
    lev_a, ex_a, tf_a = _rest_level(ra, rb, ta, tb, sim, v.share)
    lev_b, ex_b, tf_b = _rest_level(rb, ra, tb, ta, sim.transpose(0, 2, 1), v.share)
    na, nb = ra.sum(1), rb.sum(1)
    pick_b = (nb < na) | ((na == nb) & ((lev_b > lev_a) | ((lev_b == lev_a) & (ex_b > ex_a))))
    r = np.where(pick_b, lev_b, lev_a)
    r_tf = np.where(pick_b, tf_b, tf_a)
    rest_missing = ~named | (na == 0) | (nb == 0)
    r = np.where(rest_missing, MISSING, r)
    r_tf = np.where(rest_missing, 0.0, r_tf)
    g_tf = np.where(named & (g == 3), v.share[np.maximum(ta[:, 0], 0)], 0.0)
    g = np.where(named, g, MISSING)
    return g, g_tf, r, r_tf


_NAME_CHUNK = 100_000


def compare_pairs(
    left: Sequence[Features],
    right: Sequence[Features],
    lc: Columns,
    rc: Columns,
    pairs: np.ndarray,
    freq: Frequencies,
) -> tuple[np.ndarray, np.ndarray]:
    """Levels and TF shares of every pair (rows of left index, right index)."""
    n_attr = lc.attrs.shape[1]
    n = len(pairs)
    levels = np.full((n, 9 + n_attr), MISSING, np.int8)  # compact: millions of pairs
    tfs = np.zeros((n, 9 + n_attr), np.float32)
    if not n:
        return levels, tfs
    vocab = _Vocabulary.of(lc, freq)
    i, j = pairs[:, 0], pairs[:, 1]
    for c in range(0, n, _NAME_CHUNK):
        sl = slice(c, c + _NAME_CHUNK)
        g, g_tf, r, r_tf = _compare_names(vocab, lc.tokens[i[sl]], rc.tokens[j[sl]])
        levels[sl, 0], tfs[sl, 0], levels[sl, 1], tfs[sl, 1] = g, g_tf, r, r_tf
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
    both_marks = np.flatnonzero(lc.has_marks[i] & rc.has_marks[j])
    for k, a, b in zip(
        both_marks.tolist(), i[both_marks].tolist(), j[both_marks].tolist(), strict=True
    ):
        levels[k, 8] = int(not left[a].marks.isdisjoint(right[b].marks))
    text = vocab.text
    width = np.int64(max(vocab.size, 1))
    for t in range(n_attr):
        ca, cb = lc.attrs[i, t], rc.attrs[j, t]
        present = (ca >= 0) & (cb >= 0)
        equal = present & (ca == cb)
        levels[equal, 9 + t] = 3
        tfs[equal, 9 + t] = vocab.share[ca[equal]]
        differ = np.flatnonzero(present & (ca != cb))
        if len(differ):
            uniq, inverse = np.unique(
                ca[differ].astype(np.int64) * width + cb[differ], return_inverse=True
            )
            sim = _jw(
                [text[x] for x in (uniq // width).tolist()],
                [text[y] for y in (uniq % width).tolist()],
            )
            levels[differ, 9 + t] = np.where(sim >= 0.92, 2, np.where(sim >= 0.8, 1, 0))[inverse]
    return levels, tfs
