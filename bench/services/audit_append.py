"""Benchmark: audited transactions per second on PostgreSQL, the entry appended under the
chain head's lock versus queued and linked after the commit (A/B, alternating, one database).

    nice -n 10 uv run python bench/services/audit_append.py [--threads 16] [--seconds 5] \
        [--rounds 4]

`locked` is `AuditLog.append` in the action's transaction: the head row stays locked from the
append to the commit (its WAL flush included), so concurrent writers queue on it and the time
the head is held bounds a service's audited writes per second. `queued` is what intake does
now: `AuditLog.enqueue` in the action's transaction (a plain insert, no lock), the commit, then
`chain_after_commit`, which waits for a chaining pass that links every entry queued meanwhile
under one lock and one commit. Each transaction also inserts one row of its own first, as an
action would. The variants alternate per round so that the other load on this shared machine
hits both alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, command_line, load_average, machine, now_iso, stack_from_env  # noqa: E402

from haven_shared.audit.chain import AuditLog  # noqa: E402
from haven_shared.audit.model import AuditRecord, create_audit_tables  # noqa: E402
from haven_shared.audit.verify import verify_chain  # noqa: E402
from haven_shared.db import make_engine  # noqa: E402

ACTION = sa.Table(
    "bench_action",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("body", sa.String(200), nullable=False),
)


VARIANTS = ("locked", "queued")


def run(engine: sa.Engine, log: AuditLog, variant: str, threads: int, seconds: float) -> float:
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
                if variant == "locked":
                    log.append(session, record)
                else:
                    log.enqueue(session, record)
            if variant == "queued":
                log.chain_after_commit(engine)
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
    ap.add_argument("--threads", type=int, default=16)
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
    figures: dict[str, list[float]] = {v: [] for v in VARIANTS}
    load = [load_average()]
    try:
        for r in range(args.rounds):
            for name in VARIANTS if r % 2 == 0 else VARIANTS[::-1]:
                figures[name].append(round(run(engine, log, name, args.threads, args.seconds), 1))
        load.append(load_average())
        with Session(engine) as session:
            verified = verify_chain(session, b"k" * 32)
    finally:
        engine.dispose()
        stack.drop_database(url)
    if not verified.ok or verified.queued:
        raise SystemExit(f"the chain does not verify: {verified}")
    mean = {k: round(sum(v) / len(v), 1) for k, v in figures.items()}
    report = {
        "benchmark": "audited transactions per second, entry appended under the head lock "
        "(locked) vs queued and linked after the commit (queued)",
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
        "speedup_queued_over_locked": round(mean["queued"] / mean["locked"], 2),
        "chain_verified": {"ok": verified.ok, "entries": verified.entries},
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
                    "speedup_queued_over_locked",
                    "load_average_1_5_15",
                )
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
