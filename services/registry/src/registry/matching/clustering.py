"""Clustering of scored record pairs that does not chain.

Connected components of links join two people's records through a single wrong link, and
chains of such links grow into clusters of hundreds. Here clusters grow by average linkage
over every pair between them: two clusters merge only while the average evidence over all
their cross pairs says "same person".

A scored pair counts with its posterior log-odds clipped to ``±clip`` bits and mapped to
``[0, 1]``; a pair that candidate search never proposed counts as the clip floor (0), i.e. as
clearly different. Two clusters merge while the mean over all ``|A| × |B|`` cross pairs
exceeds one half, best merge first. Two single records therefore merge exactly when their
pair's posterior probability exceeds one half, while two groups joined by one strong link
and nothing else stay apart. No threshold is learned from labels.

Candidate search leaves many pairs of one person's records unscored, and counting them as
different would split true clusters. So clustering runs twice (see ``linkage``): a lenient
pass averages over scored cross pairs only; every unscored pair inside its tentative
clusters is then scored, and the strict pass above decides on complete evidence.
"""

from __future__ import annotations

import heapq

import numpy as np

DEFAULT_CLIP_BITS = 10.0


def average_linkage(
    n: int,
    pairs: np.ndarray,
    log_odds: np.ndarray,
    clip: float = DEFAULT_CLIP_BITS,
    bar: float = 0.5,
    unscored_as_different: bool = True,
) -> np.ndarray:
    """Cluster label (smallest member index) of each of ``n`` records.

    ``pairs`` are scored record pairs (rows of two indices), ``log_odds`` their posterior
    log2 odds of being the same person. With ``unscored_as_different`` False the mean runs
    over scored cross pairs only (a lenient first pass, see ``complete_and_cluster``).
    """
    labels = np.arange(n, dtype=np.int64)
    if len(pairs) == 0:
        return labels
    sim = (np.clip(np.asarray(log_odds, dtype=np.float64), -clip, clip) + clip) / (2 * clip)
    keep = sim > 0 if unscored_as_different else np.ones(len(sim), dtype=bool)
    a = pairs[keep, 0].astype(np.int64)
    b = pairs[keep, 1].astype(np.int64)
    s = sim[keep]
    ok = a != b
    a, b, s = a[ok], b[ok], s[ok]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    codes, inverse = np.unique(lo * n + hi, return_inverse=True)  # a pair scored twice
    s = np.bincount(inverse, weights=s) / np.bincount(inverse)
    a, b = (codes // n).tolist(), (codes % n).tolist()
    s = s.tolist()
    involved = sorted(set(a) | set(b))
    neighbours: dict[int, dict[int, list[float]]] = {i: {} for i in involved}
    for x, y, v in zip(a, b, s, strict=True):
        neighbours[x][y] = neighbours[y][x] = [v, 1.0]
    strict = unscored_as_different

    def mean(link: list[float], sx: int, sy: int) -> float:
        return link[0] / (sx * sy) if strict else link[0] / link[1]

    size = dict.fromkeys(involved, 1)
    members: dict[int, list[int]] = {i: [i] for i in involved}
    heap = [(-v, x, y) for x, y, v in zip(a, b, s, strict=True) if v > bar]
    heapq.heapify(heap)
    while heap:
        neg, x, y = heapq.heappop(heap)
        nx = neighbours.get(x)
        if nx is None or y not in nx:  # one side already merged away
            continue
        score = mean(nx[y], size[x], size[y])
        if score < -neg - 1e-12:  # stale: a side grew since; requeue at its current score
            if score > bar:
                heapq.heappush(heap, (-score, x, y))
            continue
        if score <= bar:
            continue
        big, small = (x, y) if size[x] >= size[y] else (y, x)
        nb, ns = neighbours[big], neighbours.pop(small)
        del nb[small]
        for c, v in ns.items():
            if c == big:
                continue
            nc = neighbours[c]
            del nc[small]
            old = nb.get(c)
            total = v if old is None else [old[0] + v[0], old[1] + v[1]]
            nb[c] = nc[big] = total
        size[big] += size.pop(small)
        members[big].extend(members.pop(small))
        for c in ns:  # sums that grew; the other neighbours' scores only fell (lazy)
            if c != big:
                score = mean(nb[c], size[big], size[c])
                if score > bar:
                    heapq.heappush(heap, (-score, big, c))
    for group in members.values():
        labels[group] = min(group)
    return labels


def pairs_within(labels: np.ndarray, max_size: int) -> np.ndarray:
    """Every pair (i < j) of records sharing a label, for clusters of at most ``max_size``."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    start = np.searchsorted(sorted_labels, sorted_labels, side="left")
    end = np.searchsorted(sorted_labels, sorted_labels, side="right")
    pos = np.arange(len(order))
    after = np.where(end - start <= max_size, end - pos - 1, 0)
    total = int(after.sum())
    if total == 0:
        return np.empty((0, 2), dtype=np.int64)
    first = np.repeat(pos, after)
    offset = np.arange(total) - np.repeat(np.cumsum(after) - after, after)
    second = first + 1 + offset
    a, b = order[first], order[second]
    return np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1).astype(np.int64)
