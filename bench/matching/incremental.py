"""Incremental index: build from streamed chunks, then time single-record queries and adds."""

from __future__ import annotations

import gc
import pickle
import random
import time
from pathlib import Path

import numpy as np
import psutil

from registry.matching import MatchIndex, RecordKind
from registry.matching.synthetic import generate

QUERIES = 1000
CHUNK = 50_000


def write_chunks(size: int, folder: Path, seed: int = 7) -> None:
    """Generate the data set once and store it as pickled chunks (bench-time only)."""
    data = generate(size, seed)
    rng = random.Random(seed)  # noqa: S311 - sampling
    chosen = set(rng.sample(range(len(data.found)), QUERIES))
    queries = [f for i, f in enumerate(data.found) if i in chosen]
    indexed = data.reports + [f for i, f in enumerate(data.found) if i not in chosen]
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(0, len(indexed), CHUNK):
        (folder / f"chunk{i // CHUNK:04d}.pkl").write_bytes(pickle.dumps(indexed[i : i + CHUNK]))
    truth = _truth_fast(data, queries)
    (folder / "queries.pkl").write_bytes(pickle.dumps((queries, truth)))


def _truth_fast(data, queries) -> dict[str, list[str]]:
    by_person: dict[int, list[str]] = {}
    for r in data.reports:
        by_person.setdefault(data.person_of[r.record_id], []).append(r.record_id)
    return {q.record_id: by_person.get(data.person_of[q.record_id], []) for q in queries}


def run(folder: Path) -> dict:
    """Build the index chunk by chunk, train, then time 1,000 queries and 1,000 adds."""
    proc = psutil.Process()
    base = proc.memory_info().rss
    index = MatchIndex()
    t0 = time.perf_counter()
    n = 0
    for path in sorted(folder.glob("chunk*.pkl")):
        records = pickle.loads(path.read_bytes())  # noqa: S301 - our own bench-time file
        index.add_many(records)
        n += len(records)
        del records
        gc.collect()
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.train()
    train = time.perf_counter() - t0
    rss = proc.memory_info().rss
    queries, truth = pickle.loads((folder / "queries.pkl").read_bytes())  # noqa: S301
    lat = []
    found_at_1 = found_at_10 = answerable = 0
    for q in queries:
        t = time.perf_counter()
        cands = index.query(q, limit=10, kinds={RecordKind.MISSING_PERSON_REPORT})
        lat.append(time.perf_counter() - t)
        want = set(truth[q.record_id])
        if want:
            answerable += 1
            ids = [c.record_id for c in cands]
            found_at_1 += bool(ids[:1] and ids[0] in want)
            found_at_10 += bool(want & set(ids))
    add_lat = []
    immediately_found = 0
    for q in queries:  # add each query record, then look for it at once with a copy
        t = time.perf_counter()
        index.add(q)
        add_lat.append(time.perf_counter() - t)
        probe = type(q)(
            **{
                **{f: getattr(q, f) for f in q.__dataclass_fields__},
                "record_id": q.record_id + "-probe",
            }
        )
        immediately_found += any(c.record_id == q.record_id for c in index.query(probe, limit=10))
    ms = np.asarray(lat) * 1000
    add_ms = np.asarray(add_lat) * 1000
    return {
        "indexed_records": n,
        "build_seconds": round(build, 1),
        "train_seconds": round(train, 1),
        "rss_after_build_mb": round(rss / 2**20),
        "index_rss_delta_mb": round((rss - base) / 2**20),
        "query_p50_ms": round(float(np.percentile(ms, 50)), 2),
        "query_p99_ms": round(float(np.percentile(ms, 99)), 2),
        "query_mean_ms": round(float(ms.mean()), 2),
        "add_p50_ms": round(float(np.percentile(add_ms, 50)), 2),
        "add_p99_ms": round(float(np.percentile(add_ms, 99)), 2),
        "queries": len(queries),
        "queries_with_a_true_report": answerable,
        "true_report_ranked_first": round(found_at_1 / max(answerable, 1), 3),
        "true_report_in_top10": round(found_at_10 / max(answerable, 1), 3),
        "just_added_found_by_next_query": round(immediately_found / len(queries), 3),
    }
