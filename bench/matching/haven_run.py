"""Haven's batch linkage on a benchmark task."""

from __future__ import annotations

import time

from datasets import LinkTask
from metrics import clustered, ordered, pairwise

from registry.matching import deduplicate, link


def run(task: LinkTask) -> dict:
    """Train without labels, link or deduplicate, score against the truth."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    if task.right is None:
        result = deduplicate(task.left, task.attributes)
    else:
        result = link(task.left, task.right, task.attributes)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    right = task.right if task.right is not None else task.left
    predicted = {(task.left[a].record_id, right[b].record_id) for a, b in result.links.tolist()}
    out = {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "threshold_probability": result.threshold,
        "candidate_pairs": int(len(result.pairs)),
        "candidate_recall": pairwise(
            {(task.left[a].record_id, right[b].record_id) for a, b in result.pairs.tolist()}
            if task.right is not None
            else ordered(
                (task.left[a].record_id, right[b].record_id) for a, b in result.pairs.tolist()
            ),
            task.true_pairs,
        )["recall"],
    }
    if task.right is None:
        out["pairwise"] = pairwise(ordered(predicted), task.true_pairs)
        ids = [r.record_id for r in task.left]
        labels = dict(zip(ids, result.clusters.tolist(), strict=True))
        out["clustered"] = clustered(labels, task.true_cluster)
    else:
        out["pairwise"] = pairwise(predicted, task.true_pairs)
    out["model"] = result.model.to_dict()
    return out
