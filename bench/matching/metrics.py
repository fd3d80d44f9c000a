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
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f1, 4),
        "predicted_pairs": len(predicted),
        "true_pairs": len(truth),
    }


def clustered(predicted: Mapping[str, object], true: Mapping[str, object]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of the pairs implied by two clusterings."""

    def c2(n: int) -> int:
        return n * (n - 1) // 2

    pred_sizes: dict[object, int] = defaultdict(int)
    true_sizes: dict[object, int] = defaultdict(int)
    both: dict[tuple[object, object], int] = defaultdict(int)
    for rid, c in predicted.items():
        pred_sizes[c] += 1
        true_sizes[true[rid]] += 1
        both[(c, true[rid])] += 1
    tp = sum(c2(n) for n in both.values())
    n_pred = sum(c2(n) for n in pred_sizes.values())
    n_true = sum(c2(n) for n in true_sizes.values())
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f1, 4),
        "predicted_pairs": n_pred,
        "true_pairs": n_true,
        "largest_cluster": max(pred_sizes.values(), default=0),
    }


def pairs_of_clusters(cluster_of: Mapping[str, object]) -> set[tuple[str, str]]:
    """All (a, b) pairs, a < b, of records sharing a cluster."""
    members: dict[object, list[str]] = defaultdict(list)
    for rid, c in cluster_of.items():
        members[c].append(rid)
    out = set()
    for ids in members.values():
        ids.sort()
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                out.add((a, b))
    return out


def ordered(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Pairs with the smaller id first (deduplication)."""
    return {(a, b) if a < b else (b, a) for a, b in pairs}
