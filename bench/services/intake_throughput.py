"""Benchmark: intake's case creation against the raw FastAPI + asyncpg insert ceiling.

    nice -n 10 uv run --group bench python bench/services/intake_throughput.py \
        [--seconds 60] [--concurrency 16] [--out bench/results/intake.json]

Uses the stack in $HAVEN_TEST_STACK_DIR (PostgreSQL, Keycloak, Kafka; started if needed) and
fresh databases of its own. Two servers on the same machine and the same PostgreSQL, loaded in
turn in `--slices` alternating slices (so that both meet the other work on this shared machine
alike), `--seconds` each in all:

- the raw service (`raw_insert_app.py`: FastAPI + asyncpg, one INSERT per request);
- intake as a real `uvicorn --factory intake.main:create_app` process (one worker, its relay
  to Kafka inside, as `make up` runs it) taking `POST /cases` with a real Keycloak token of a
  caseworker: JWT check, validation, sealing the person, the case row, the audit entry and the
  outbox row in one transaction.

Both: throughput and p50/p95/p99 latency of the requests started after each slice's warm-up; every
answer must be 201. For intake the run then waits until the outbox is drained and counts the
`case.opened` events of the created cases on `intake.case` (each case exactly once). The ratio
intake / raw is the figure of merit (goal ≥ 0.6). The load generator (httpx, asyncio) runs in
this process on the same two cores, as do PostgreSQL and Kafka; the load averages say how busy
the machine was.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    ROOT,
    LoadResult,
    Uvicorn,
    closed_loop,
    command_line,
    end_offsets,
    header,
    load_average,
    machine,
    now_iso,
    records_since,
    stack_from_env,
    versions,
)

from haven_shared.testing.kafka_groups import start_group_at_end  # noqa: E402
from haven_shared.testing.stack import LocalStack, free_port  # noqa: E402

TOPIC = "intake.case"
OPENED = "haven.intake.case.opened.v1"
GOAL_RATIO = 0.6


def case_body(i: int) -> dict[str, Any]:
    return {
        "kind": "missing-person",
        "risk_level": "medium",
        "person": {"display_name": f"Bench Person {i}", "estimated_age": 34},
    }


def intake_env(stack: LocalStack, database_url: str, group: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        {
            "INTAKE_ENVIRONMENT": "test",
            "INTAKE_DATABASE_URL": database_url,
            "INTAKE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
            "INTAKE_KEYCLOAK_ISSUER": stack.issuer,
            "INTAKE_OUTCOME_CONSUMER_GROUP": group,
        }
    )
    return env


def scalar(url: str, sql: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def raw_server(url: str, logs: Path) -> tuple[Uvicorn, str]:
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return Uvicorn(
        "raw",
        "raw_insert_app:create_app",
        free_port(),
        {**os.environ, "RAW_DATABASE_URL": dsn},
        logs / "raw.log",
        app_dir=Path(__file__).resolve().parent,
    ), url


def intake_server(stack: LocalStack, url: str, logs: Path) -> Uvicorn:
    group = f"bench-intake-{uuid.uuid4().hex[:8]}"
    for topic in ("referral.referral", "registry.match"):
        start_group_at_end(stack.kafka_bootstrap, group, topic)
    return Uvicorn(
        "intake",
        "intake.main:create_app",
        free_port(),
        intake_env(stack, url, group),
        logs / "intake.log",
    )


def profiler(intake: Uvicorn, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """py-spy sampling the intake process (all threads, idle ones left out) during the load."""
    assert intake.proc is not None
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            "py-spy",
            "record",
            "--pid",
            str(intake.proc.pid),
            "--format",
            "raw",
            "--rate",
            "100",
            "--duration",
            str(int(args.seconds * 2 + 10)),
            "--output",
            args.profile,
            *(["--gil"] if args.profile_gil else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def merge(into: LoadResult | None, part: LoadResult) -> LoadResult:
    if into is None:
        return part
    into.seconds += part.seconds
    into.latencies_ms += part.latencies_ms
    into.created += part.created
    for status, n in part.statuses.items():
        into.statuses[status] = into.statuses.get(status, 0) + n
    return into


def interleaved(
    targets: dict[str, tuple[str, dict[str, str]]], args: argparse.Namespace
) -> dict[str, LoadResult]:
    """Each target under the same load for `--slices` slices of seconds/slices, alternating
    (and swapping who goes first each round), so both meet the machine's other load alike."""
    results: dict[str, LoadResult | None] = dict.fromkeys(targets)
    names = list(targets)
    for i in range(args.slices):
        for name in names if i % 2 == 0 else names[::-1]:
            url, headers = targets[name]
            part = closed_loop(
                url,
                case_body,
                headers,
                args.concurrency,
                args.seconds / args.slices,
                warmup=3.0 if i < 2 else 1.0,
            )
            results[name] = merge(results[name], part)
    return {k: v for k, v in results.items() if v is not None}


def published_events(
    stack: LocalStack, start: dict[int, int], created: set[str]
) -> dict[str, set[str]]:
    """Created case id → the distinct ids of its `case.opened` events on intake's topic."""
    published: dict[str, set[str]] = {}
    for record in records_since(stack.kafka_bootstrap, TOPIC, start):
        key = record.key.decode() if record.key else ""
        if key in created and header(record, "ce_type") == OPENED:
            published.setdefault(key, set()).add(header(record, "ce_id"))
    return published


def run(
    stack: LocalStack, intake_url: str, raw_url: str, logs: Path, args: argparse.Namespace
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    intake = intake_server(stack, intake_url, logs)
    raw, _ = raw_server(raw_url, logs)
    servers = [intake] + ([] if args.only_intake else [raw])
    try:
        for server in servers:
            server.start()
        headers = {
            "Authorization": f"Bearer {stack.password_token('ana')}",
            "X-Purpose-Of-Use": "family-tracing",
        }
        targets = {"intake": (f"{intake.url}/cases", headers)}
        if not args.only_intake:
            targets["raw"] = (f"{raw.url}/cases", {})
        start = end_offsets(stack.kafka_bootstrap, TOPIC)
        spy = profiler(intake, args) if args.profile else None
        results = interleaved(targets, args)
        ended = time.perf_counter()
        pending_at_end = scalar(intake_url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        while scalar(intake_url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
            if time.perf_counter() - ended > 120:
                raise RuntimeError("intake's outbox did not drain within 120 s")
            time.sleep(0.1)
        drained_after = time.perf_counter() - ended
        if spy:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait(timeout=30)
    finally:
        for server in servers:
            server.stop()
    created = set(results["intake"].created)
    published = published_events(stack, start, created)
    intake_figures = {
        **results["intake"].figures(),
        "events": {
            "created_in_timed_window": len(created),
            "cases_with_case_opened_on_kafka": len(published),
            "cases_with_more_than_one_distinct_event": sum(
                1 for ids in published.values() if len(ids) > 1
            ),
            "missing": len(created - set(published)),
            "outbox_pending_when_load_ended": pending_at_end,
            "outbox_drained_seconds_after_load": round(drained_after, 2),
        },
    }
    raw_figures = None
    if "raw" in results:
        raw_figures = {
            **results["raw"].figures(),
            "rows_in_table": scalar(raw_url, "SELECT count(*) FROM raw_case"),
        }
    return raw_figures, intake_figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument(
        "--slices",
        type=int,
        default=6,
        help="alternating slices the seconds of each target are cut into",
    )
    ap.add_argument("--out", default=str(ROOT / "bench/results/intake.json"))
    ap.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the intake process during its "
        "load (collapsed stacks, all threads) into FILE; see profile_report.py",
    )
    ap.add_argument(
        "--profile-gil",
        action="store_true",
        help="sample only the thread holding the GIL (where the CPU goes)",
    )
    ap.add_argument("--only-intake", action="store_true", help="skip the raw service")
    args = ap.parse_args()
    stack = stack_from_env()
    intake_url = stack.create_database("bench_intake")
    raw_url = stack.create_database("bench_raw")
    started = load_average()
    try:
        with tempfile.TemporaryDirectory(prefix="haven-bench-intake-") as tmp:
            raw, intake = run(stack, intake_url, raw_url, Path(tmp), args)
        meta = versions(intake_url, extra=("asyncpg", "pydantic", "uvloop"))
    finally:
        stack.drop_database(intake_url)
        stack.drop_database(raw_url)
    ratio = intake["throughput_per_s"] / raw["throughput_per_s"] if raw else 0.0
    ok = (
        intake["errors"] == 0
        and (raw is None or raw["errors"] == 0)
        and intake["events"]["missing"] == 0
        and intake["events"]["cases_with_more_than_one_distinct_event"] == 0
    )
    report = {
        "benchmark": "intake POST /cases throughput vs a raw FastAPI + asyncpg insert",
        "date": now_iso(),
        "machine": machine(),
        "versions": meta,
        "command": command_line(),
        "load_average_1_5_15": {"start": started, "end": load_average()},
        "setup": {
            "seconds": args.seconds,
            "slices": args.slices,
            "warmup_seconds": "3 before each target's first slice, 1 before the others",
            "concurrency": args.concurrency,
            "client": "httpx.AsyncClient, closed loop, keep-alive, in the benchmark process",
            "servers": "one uvicorn worker each, uvloop + httptools, no access log",
            "intake": "real process with its embedded relay to Kafka (intake.case) and "
            "outcome consumer; Keycloak token of caseworker `ana`; SQLAlchemy + "
            "psycopg 3 on PostgreSQL",
            "raw": "bench/services/raw_insert_app.py: no auth, no audit, no sealing, no outbox",
            "note": "PostgreSQL, Kafka, Keycloak, both servers and the load generator share "
            "2 cores with other engineers' work; see the load averages",
        },
        "raw": raw,
        "intake": intake,
        "ratio_intake_to_raw": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
        "meets_goal": ratio >= GOAL_RATIO,
        "checks_passed": ok,
    }
    out = Path(args.out)
    if out.exists():  # keep the audit A/B figures audit_append.py merged in
        earlier = json.loads(out.read_text())
        report.update({k: v for k, v in earlier.items() if k == "audit_append_ab"})
    out.write_text(json.dumps(report, indent=2) + "\n")
    summary = {k: report[k] for k in ("ratio_intake_to_raw", "meets_goal", "checks_passed")}
    print(
        json.dumps(
            {
                "raw": raw and {k: raw[k] for k in ("throughput_per_s", "p50_ms", "p99_ms")},
                "intake": {
                    k: intake[k]
                    for k in ("throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "events")
                },
                **summary,
            },
            indent=2,
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
