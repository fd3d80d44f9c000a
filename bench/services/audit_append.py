"""Benchmark: audited transactions per second on PostgreSQL, the chain's append before and
after its shorter critical section (A/B, alternating, on one database).

    nice -n 10 uv run python bench/services/audit_append.py [--threads 8] [--seconds 5] [--rounds 4]

Every service appends to one audit chain whose head row stays locked from the append to the
commit, so concurrent writers queue on it: the time the head is held bounds a service's audited
writes per second (intake's profile: ~40 % of request time waiting on the head). `before`
is the append as it was (bump the head, read it back, insert the entry, update the head: four
statements under the lock); `after` is `haven_shared.audit.chain` now (bump with RETURNING,
then the insert and the head update in one statement: two). Each transaction also inserts one
row of its own first, as an action would. The variants alternate per round so that the other
load on this shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, command_line, load_average, machine, now_iso, stack_from_env  # noqa: E402

from haven_shared.audit import chain  # noqa: E402
from haven_shared.audit.chain import AuditLog  # noqa: E402
from haven_shared.audit.model import (  # noqa: E402
    AuditRecord,
    audit_entry_table,
    audit_head_table,
    create_audit_tables,
)
from haven_shared.db import make_engine  # noqa: E402

ACTION = sa.Table(
    "bench_action",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("body", sa.String(200), nullable=False),
)


def advance_head_before(session: Session, step: int = 1) -> tuple[int, str]:
    head = audit_head_table
    bump = head.update().where(head.c.id == 1).values(seq=head.c.seq + step)
    if session.execute(bump).rowcount == 0:
        chain._create_head(session)
        session.execute(bump)
    row = session.execute(sa.select(head.c.seq, head.c.entry_hash).where(head.c.id == 1)).one()
    return int(row.seq), str(row.entry_hash)


def store_entry_before(session: Session, values: dict[str, Any], entry_hash: str) -> None:
    session.execute(audit_entry_table.insert().values(**values))
    session.execute(
        audit_head_table.update().where(audit_head_table.c.id == 1).values(entry_hash=entry_hash)
    )


VARIANTS = {
    "before": (advance_head_before, store_entry_before),
    "after": (chain._advance_head, chain._store_entry),
}


def run(engine: sa.Engine, log: AuditLog, threads: int, seconds: float) -> float:
    record = AuditRecord(
        actor="bench",
        roles=("caseworker",),
        organisation="org-bench",
        purpose="bench",
        action="case.open",
        object_type="case",
        object_id="00000000-0000-0000-0000-000000000000",
    )
    done = [0] * threads
    until = time.perf_counter() + seconds

    def worker(i: int) -> None:
        while time.perf_counter() < until:
            with Session(engine) as session, session.begin():
                session.execute(ACTION.insert().values(body="an action's own row"))
                log.append(session, record)
            done[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument(
        "--out",
        default=str(ROOT / "bench/results/intake.json"),
        help="JSON file the figures are merged into (key `audit_append_ab`)",
    )
    args = ap.parse_args()
    stack = stack_from_env()
    url = stack.create_database("bench_audit")
    engine = make_engine(url, pool_size=args.threads)
    create_audit_tables(engine)
    ACTION.create(engine)
    log = AuditLog("bench", b"k" * 32)
    figures: dict[str, list[float]] = {"before": [], "after": []}
    load = [load_average()]
    saved = (chain._advance_head, chain._store_entry)
    try:
        for r in range(args.rounds):
            for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
                chain._advance_head, chain._store_entry = VARIANTS[name]
                figures[name].append(round(run(engine, log, args.threads, args.seconds), 1))
        load.append(load_average())
    finally:
        chain._advance_head, chain._store_entry = saved
        engine.dispose()
        stack.drop_database(url)
    mean = {k: round(sum(v) / len(v), 1) for k, v in figures.items()}
    report = {
        "benchmark": "audited transactions per second, chain append before/after",
        "date": now_iso(),
        "command": command_line(),
        "load_average_1_5_15": {"start": load[0], "end": load[-1]},
        "setup": {
            "threads": args.threads,
            "seconds_per_round": args.seconds,
            "rounds": args.rounds,
            "database": "PostgreSQL (test stack)",
            "note": "2 cores shared with other engineers' work; variants alternate per round",
        },
        "transactions_per_s": figures,
        "mean_transactions_per_s": mean,
        "speedup": round(mean["after"] / mean["before"], 2),
    }
    out = Path(args.out)
    merged = json.loads(out.read_text()) if out.exists() else {"machine": machine()}
    merged["audit_append_ab"] = report
    out.write_text(json.dumps(merged, indent=2) + "\n")
    print(
        json.dumps(
            {
                k: report[k]
                for k in (
                    "transactions_per_s",
                    "mean_transactions_per_s",
                    "speedup",
                    "load_average_1_5_15",
                )
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
