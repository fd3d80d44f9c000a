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

import numpy as np

DEFAULT_CLIP_BITS = 10.0


def average_linkage(
    n: int,
    pairs: np.ndarray,
    log_odds: np.ndarray,
    clip: float = DEFAULT_CLIP_BITS,
    bar: float = 0.5,
    unscored_as_different: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """Cluster label (smallest member index) of each of ``n`` records.

    ``pairs`` are scored record pairs (rows of two indices), ``log_odds`` their posterior
    log2 odds of being the same person. With ``unscored_as_different`` False the mean runs
    over scored cross pairs only (a lenient first pass, see ``linkage.deduplicate``).

    Average linkage is reducible, so merging every pair of clusters that are each other's
    best neighbour gives the same clusters as merging the single best pair at a time; each
    round does that for all clusters at once on numpy arrays. Ties on the clipped score are
    broken by the unclipped mean log-odds, remaining ties by a seeded random matching.
    """
    root = np.arange(n, dtype=np.int64)
    if len(pairs) == 0:
        return root
    raw = np.asarray(log_odds, dtype=np.float64)
    sim = (np.clip(raw, -clip, clip) + clip) / (2 * clip)
    a = pairs[:, 0].astype(np.int64)
    b = pairs[:, 1].astype(np.int64)
    keep = a != b
    if unscored_as_different:
        keep &= sim > 0  # a clearly different pair counts as much as an unscored one
    a, b, sim, raw = a[keep], b[keep], sim[keep], raw[keep]
    a, b, s_sum, r_sum, count = _aggregate(n, a, b, sim, raw, np.ones(len(a)))
    s_sum = s_sum / count  # a pair scored twice counts once, at its mean
    r_sum = r_sum / count
    count = np.ones(len(a))
    size = np.ones(n)
    rng = np.random.default_rng(seed)
    while len(a):
        score = s_sum / (size[a] * size[b]) if unscored_as_different else s_sum / count
        cand = score > bar
        if not cand.any():
            break
        active = np.zeros(n, dtype=bool)  # a cluster with no edge above the bar never gets one
        active[a[cand]] = True
        active[b[cand]] = True
        live = active[a] & active[b]
        a, b, s_sum, r_sum, count = a[live], b[live], s_sum[live], r_sum[live], count[live]
        score, cand = score[live], cand[live]
        idx = np.flatnonzero(cand)
        ca, cb, cs, ct = a[idx], b[idx], score[idx], r_sum[idx] / count[idx]
        x = np.concatenate([ca, cb])
        sc = np.concatenate([cs, cs])
        tt = np.concatenate([ct, ct])
        order = np.lexsort((-tt, -sc, x))
        xs = x[order]
        first = np.ones(len(xs), dtype=bool)
        first[1:] = xs[1:] != xs[:-1]
        best_s = np.full(n, -np.inf)
        best_t = np.full(n, -np.inf)
        best_s[xs[first]] = sc[order][first]
        best_t[xs[first]] = tt[order][first]
        mutual = (cs == best_s[ca]) & (ct == best_t[ca]) & (cs == best_s[cb]) & (ct == best_t[cb])
        idx, ca, cb = idx[mutual], ca[mutual], cb[mutual]
        priority = rng.random(len(idx))
        pick = np.full(n, -1.0)
        np.maximum.at(pick, ca, priority)
        np.maximum.at(pick, cb, priority)
        chosen = (pick[ca] == priority) & (pick[cb] == priority)
        into, gone = ca[chosen], cb[chosen]
        mapping = np.arange(n, dtype=np.int64)
        mapping[gone] = into
        root = mapping[root]
        size[into] += size[gone]
        a, b = mapping[a], mapping[b]
        a, b, s_sum, r_sum, count = _aggregate(n, a, b, s_sum, r_sum, count)
    smallest = np.full(n, n, dtype=np.int64)
    np.minimum.at(smallest, root, np.arange(n, dtype=np.int64))
    return smallest[root]


def _aggregate(n: int, a: np.ndarray, b: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cluster-level edges: self-loops dropped, values of parallel edges summed."""
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    codes, inverse = np.unique(lo * n + hi, return_inverse=True)
    sums = [np.bincount(inverse, weights=v[keep], minlength=len(codes)) for v in values]
    return (codes // n, codes % n, *sums)


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
