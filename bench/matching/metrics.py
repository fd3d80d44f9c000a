"""Pairwise and clustered precision, recall and F1."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping


def pairwise(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 of predicted pairs against true pairs."""
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(truth) if truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
            "predicted_pairs": len(predicted), "true_pairs": len(truth)}


def pairs_of_clusters(cluster_of: Mapping[str, object]) -> set[tuple[str, str]]:
    """All (a, b) pairs, a < b, of records sharing a cluster."""
    members: dict[object, list[str]] = defaultdict(list)
    for rid, c in cluster_of.items():
        members[c].append(rid)
    out = set()
    for ids in members.values():
        ids.sort()
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                out.add((a, b))
    return out


def ordered(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Pairs with the smaller id first (deduplication)."""
    return {(a, b) if a < b else (b, a) for a, b in pairs}
