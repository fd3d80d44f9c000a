"""The full crash matrix: every crash point of the backbone × N seeds, one point per run.

    uv run python bench/faults/run.py                       # 15 points × 20 seeds
    uv run python bench/faults/run.py --seeds 2 --points uow.after-commit relay.after-claim

Each run starts intake, registry and referral as processes on fresh databases (tests/fault's
harness), the target service set to die at the point (the seed chooses which hit), files consent
and needs for N cases, restarts the service after the crash and waits for convergence. Writes
`bench/results/faults.json`: machine, date, command, the matrix, and per run and in total the
acknowledged requests, lost and duplicated effects, dead letters against poison sent, and the
time to converge after the last restart. Uses its own stack directory unless --stack-dir names
a running one; the stack is left running for the next invocation (`deploy/down.sh` style stop:
LocalStack.stop()).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fault"))

from chains import REACHED, nth_for  # noqa: E402
from harness import Scenario  # noqa: E402

from haven_shared.faults import POINTS, CrashSpec, format_specs  # noqa: E402
from haven_shared.testing.stack import LocalStack  # noqa: E402

POISON_POINTS = {"inbox.dead-letter-before-commit", "inbox.dead-letter-after-commit"}


def target_of(point: str) -> str:
    """The service whose crash at `point` the flow exercises most: consumers are referral's,
    commits and relays intake's."""
    if point.startswith("inbox."):
        return "referral"
    return next(svc for svc in ("intake", "referral", "registry") if point in REACHED[svc])


def machine() -> dict[str, Any]:
    mem = 0
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except (OSError, IndexError, ValueError):
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_mb": mem,
    }


def commit() -> str:
    """The checkout's commit (and whether files differ from it)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (modified)" if dirty.strip() else "")


def run_one(
    stack: LocalStack, point: str, seed: int, cases: int, converge_timeout: float = 300.0
) -> dict[str, Any]:
    spec = CrashSpec(point, nth_for(point, random.Random(seed)))
    target = target_of(point)
    started = time.monotonic()
    try:
        with Scenario(
            stack,
            target=target,
            crash_at=format_specs([spec]),
            seed=seed,
            cases=cases,
            poison=point in POISON_POINTS,
        ) as scenario:
            o = scenario.run_flow(converge_timeout=converge_timeout)
            result = o.as_dict()
    except Exception as exc:  # noqa: BLE001 - a failed run is a result, recorded as such
        result = {
            "target": target,
            "crash_at": format_specs([spec]),
            "seed": seed,
            "error": f"{type(exc).__name__}: {str(exc)[:500]}",
        }
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    return result


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    converge = [r["converge_seconds"] for r in ok if r.get("crashes")]
    return {
        "runs": len(runs),
        "failed_runs": len(runs) - len(ok),
        "crashed_runs": sum(1 for r in ok if r.get("crashes")),
        "unreached_runs": sum(1 for r in ok if r.get("unreached")),
        "acknowledged_requests": sum(r["acknowledged"] for r in ok),
        "lost": sum(r["lost"] for r in ok),
        "duplicated": sum(r["duplicated"] for r in ok),
        "poison_sent": sum(r["poison_sent"] for r in ok),
        "dead_letters": sum(len(r["dead_letters"]) for r in ok),
        "converge_seconds": (
            {"median": statistics.median(converge), "max": max(converge)} if converge else None
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--points", nargs="*", default=list(POINTS))
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument(
        "--converge-timeout",
        type=float,
        default=300.0,
        help="seconds a run may take to converge after its last fault",
    )
    parser.add_argument("--stack-dir", type=Path, default=ROOT / ".run" / "fault-bench-stack")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "faults.json")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.points) - set(POINTS))
    if unknown:
        parser.error(f"unknown crash points: {unknown}")

    stack = LocalStack.reuse_or_start(args.stack_dir.resolve())
    started = datetime.now(UTC)
    runs: list[dict[str, Any]] = []
    t0 = time.monotonic()
    planned = [(point, seed) for seed in range(args.seeds) for point in args.points]
    report: dict[str, Any] = {}
    for point, seed in planned:  # seed by seed: an interrupted run still covers every point
        r = run_one(stack, point, seed, args.cases, args.converge_timeout)
        runs.append(r)
        print(
            json.dumps(
                {
                    k: r.get(k)
                    for k in (
                        "crash_at",
                        "seed",
                        "crashes",
                        "lost",
                        "duplicated",
                        "converge_seconds",
                        "wall_seconds",
                        "error",
                    )
                }
            ),
            flush=True,
        )
        report = {
            "machine": machine(),
            "date": started.isoformat(timespec="seconds"),
            "commit": commit(),
            "command": " ".join(["uv run python bench/faults/run.py", *(argv or sys.argv[1:])]),
            "matrix": {
                "points": args.points,
                "seeds": args.seeds,
                "cases_per_run": args.cases,
                "requests_per_case": 3,
                "runs_planned": len(planned),
                "runs_done": len(runs),
                "complete": len(runs) == len(planned),
            },
            "wall_seconds": round(time.monotonic() - t0, 1),
            "totals": summary(runs),
            "runs": runs,
        }
        # Written after every run, so an interrupted matrix leaves what it did.
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps(report["totals"], indent=2))
    t = report["totals"]
    return 0 if (t["lost"], t["duplicated"], t["failed_runs"]) == (0, 0, 0) else 1


if __name__ == "__main__":
    raise SystemExit(main())
