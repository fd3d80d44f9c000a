"""Candidate search keys and the compact store that maps keys to records.

Several independent key families give recall without trusting any single one:

- unordered pairs of name skeletons (any name order, one dropped part still leaves pairs),
  alone and with a birth-year bracket (specific even for the most common names);
- pairs of three-letter skeleton prefixes (a typo late in a name);
- a name skeleton with the birth year, and each name skeleton alone (single-name records);
- the full date of birth, and attribute values (document numbers, postcodes...);
- distinguishing marks, and for nameless records sex, birth bucket and year (see below).

Keys are 64-bit integers. The store keeps a sorted numpy segment plus a small dict of recent
additions, so a record is searchable as soon as it is added and a million records take a few
hundred megabytes.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from .features import Features
from .names import skeleton

_MAX_TOKENS = 5


# Keys live only in this process's memory, so Python's own 64-bit hash of a key tuple serves
# (it is salted per process, which does not matter here); a collision only adds a candidate.
_h = hash


def _birth_brackets(f: Features) -> list[int]:
    # Four-year brackets of the birth year widened by one year each way, so that records one
    # year apart always share a bracket; an age estimate spans at most four brackets.
    if not f.b_lo:
        return []
    lo, hi = (f.by - 1, f.by + 1) if f.by else (f.b_lo - 1, f.b_hi + 1)
    first = lo // 4
    return list(range(first, min(hi // 4, first + 3) + 1))


def _unnamed_keys(f: Features) -> list[tuple]:
    # Remains usually carry no name: sex, a five-year birth bucket and the year last seen or
    # found are all there is to search on (distinguishing marks are keyed separately). A
    # place cell would cut these blocks, but people are found far along their route.
    if not f.b_lo:
        return []
    years = []
    if f.seen and f.seen[0] is not None:
        y = 1900 + f.seen[0] // 365
        years += [y, y + 1]
    if f.found and f.found[0] is not None:
        years.append(1900 + f.found[0] // 365)
    buckets = range(f.b_lo // 5, min(f.b_hi // 5, f.b_lo // 5 + 4) + 1)
    return [("x", f.sex, b, y) for b in buckets for y in years]


def record_keys(f: Features, query: bool = False) -> list[int]:
    """Blocking keys of one record (deduplicated).

    Keys for unnamed records are stored only for records without a name, and searched by
    every query, so a report finds nameless remains without huge blocks of named records.
    """
    all_skels = sorted(skeleton(t) for t in f.tokens[:_MAX_TOKENS])
    skels = list(dict.fromkeys(all_skels))
    keys: set[tuple] = set()
    brackets = _birth_brackets(f)
    for a, b in combinations(all_skels, 2):  # a repeated name (Ahmad Ahmed) pairs with itself
        keys.add(("p", a, b))
        for k in brackets:  # the same two names and a compatible birth year: specific even
            keys.add(("pb", a, b, k))  # for the most common names
    prefixes = sorted({s[:3] for s in skels[:3]})
    for a, b in combinations(prefixes, 2):
        keys.add(("q", a, b))
    for s in skels:
        keys.add(("t", s))
        if f.by:
            keys.add(("y", s, f.by))
    for m in f.marks or ():
        keys.add(("m", f.sex, m))
    if query or not f.tokens:
        keys.update(_unnamed_keys(f))
    if f.by and f.bm and f.bd:
        keys.add(("d", f.by, f.bm, f.bd))
    for i, v in enumerate(f.attrs):
        if v is not None:
            keys.add(("a", i, v))
    return [_h(k) for k in keys]


class KeyStore:
    """Append-only map from 64-bit key to record numbers, searchable right after each add."""

    def __init__(self, merge_every: int = 200_000) -> None:
        self._keys = np.empty(0, dtype=np.int64)
        self._ids = np.empty(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._recent_entries = 0
        self._merge_every = merge_every

    def __len__(self) -> int:
        return len(self._keys) + self._recent_entries

    def add(self, rid: int, keys: list[int]) -> None:
        """Index one record number under its keys."""
        recent = self._recent
        for k in keys:
            lst = recent.get(k)
            if lst is None:
                recent[k] = [rid]
            else:
                lst.append(rid)
        self._recent_entries += len(keys)
        if self._recent_entries >= self._merge_every:
            self.compact()

    def add_bulk(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Index many (key, record number) entries at once."""
        self.compact()
        allk = np.concatenate([self._keys, keys.astype(np.int64)])
        alli = np.concatenate([self._ids, ids.astype(np.int32)])
        order = np.argsort(allk, kind="stable")
        self._keys, self._ids = allk[order], alli[order]

    def compact(self) -> None:
        """Merge recent additions into the sorted segment."""
        if not self._recent:
            return
        ks = np.fromiter(
            (k for k, v in self._recent.items() for _ in v),
            dtype=np.int64,
            count=self._recent_entries,
        )
        ids = np.fromiter(
            (i for v in self._recent.values() for i in v),
            dtype=np.int32,
            count=self._recent_entries,
        )
        order = np.argsort(ks, kind="stable")
        ks, ids = ks[order], ids[order]
        pos = np.searchsorted(self._keys, ks, side="right")
        self._keys = np.insert(self._keys, pos, ks)
        self._ids = np.insert(self._ids, pos, ids)
        self._recent.clear()
        self._recent_entries = 0

    def lookup(self, keys: list[int], budget: int) -> list[tuple[np.ndarray, int]]:
        """Record numbers under each key with the key's block size, rarest key first.

        At most ``budget`` record numbers come back in all: rare keys are read whole, and a
        key met when less than its block is left of the budget gives its newest records
        (so a record just added is found even under a common name). No key is skipped.
        """
        q = np.asarray(keys, dtype=np.int64)
        lo = np.searchsorted(self._keys, q, side="left").tolist()
        hi = np.searchsorted(self._keys, q, side="right").tolist()
        recent = self._recent
        blocks = []
        for k, a, b in zip(keys, lo, hi, strict=True):
            extra = recent.get(k)
            n = b - a + (len(extra) if extra else 0)
            if n:
                blocks.append((n, a, b, extra))
        blocks.sort(key=lambda x: x[0])
        out = []
        left = budget
        for n, _a, b, extra in blocks:
            if left <= 0:
                break
            take = min(n, left)
            left -= take
            newest = np.asarray(extra[-take:], dtype=np.int32) if extra else None
            rest = take - (len(newest) if newest is not None else 0)
            old = self._ids[b - rest : b] if rest > 0 else None
            if newest is not None and old is not None:
                ids = np.concatenate([old, newest])
            else:
                ids = newest if old is None else old
            out.append((ids, n))
        return out

    def nbytes(self) -> int:
        """Approximate memory of the sorted segment."""
        return int(self._keys.nbytes + self._ids.nbytes)
