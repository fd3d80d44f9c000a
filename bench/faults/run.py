"""The full crash matrix: every crash point of the backbone × N seeds, one point per run.

    uv run python bench/faults/run.py                       # 15 points × seeds 0-19
    uv run python bench/faults/run.py --seeds 2 --points uow.after-commit relay.after-claim
    uv run python bench/faults/run.py --points outbox.after-stage --seed-start 7 --seeds 1
    uv run python bench/faults/run.py --max-minutes 60      # start no run after an hour

Each run starts intake, registry and referral as processes on fresh databases (tests/fault's
harness), the target service set to die at the point (the seed chooses which hit), files consent
and needs for N cases, restarts the service after the crash and waits for convergence. Writes
`bench/results/faults.json` after every run: machine, date, commands, the matrix, and per run
and in total the acknowledged requests, lost and duplicated effects, dead letters against poison
sent, the time to converge after the last restart and the load average.

Resumable: runs already recorded in the results file for the same code (the last commit that
changed shared/, services/, the fault harness, deploy/ or the lock file; each run records the
code it ran, and whether the working tree differed) are skipped, so the matrix accumulates over
several invocations. `--any-code` keeps and skips recorded runs of any code (the results then
say how many runs each code had); `--retry-failed` runs the failed ones again (keeping their
errors as `earlier_errors`); `--fresh` starts over. Runs of other code are kept under
`earlier_attempts` (totals and failed runs only); the `soak` section (bench/faults/chaos.py) is
left as it is.

Uses its own stack directory unless --stack-dir names another. A stack other suites use too
slows the runs down (their events reach the scenario's consumers on the shared topics); the
stack is left running for the next invocation (stop it with `LocalStack.stop()`).

Every service process a run starts is killed when the run ends, and when the runner exits by
an error, Ctrl-C, SIGTERM or SIGHUP (and, being started with a parent-death signal, when the
runner is SIGKILLed).
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
from harness import Scenario, exit_on_signals, kill_started  # noqa: E402

from haven_shared.faults import POINTS, CrashSpec, format_specs  # noqa: E402
from haven_shared.testing.stack import LocalStack  # noqa: E402

POISON_POINTS = {"inbox.dead-letter-before-commit", "inbox.dead-letter-after-commit"}
#: What a run executes: a change here makes earlier runs another code's. The fault tests
#: themselves and this runner's bookkeeping are not part of it (the crash chains are).
CODE_PATHS = (
    "shared",
    "services",
    "tests/fault",
    ":(exclude)tests/fault/test_*.py",
    "deploy",
    "pyproject.toml",
    "uv.lock",
)
LOG_TAIL = 1500


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


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def commit() -> str:
    """The checkout's commit (and whether files differ from it)."""
    try:
        head = _git("rev-parse", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (modified)" if dirty else "")


def code_version() -> tuple[str, bool]:
    """The last commit that changed the code a run executes, and whether the working tree
    differs from it there (other work in progress)."""
    try:
        last = _git("log", "-1", "--format=%H", "--", *CODE_PATHS)
        dirty = _git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS)
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True
    return last, bool(dirty)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_one(
    stack: LocalStack, point: str, seed: int, cases: int, converge_timeout: float = 300.0
) -> dict[str, Any]:
    spec = CrashSpec(point, nth_for(point, random.Random(seed)))
    target = target_of(point)
    started = time.monotonic()
    load_before = load_average()
    try:
        with Scenario(
            stack,
            target=target,
            crash_at=format_specs([spec]),
            seed=seed,
            cases=cases,
            poison=point in POISON_POINTS,
        ) as scenario:
            try:
                o = scenario.run_flow(converge_timeout=converge_timeout)
            except Exception as exc:
                # The logs go with the scenario: keep their ends for the record.
                exc.add_note(
                    json.dumps({p.name: p.log_tail(LOG_TAIL) for p in scenario.procs.values()})
                )
                raise
            result = o.as_dict()
    except Exception as exc:  # noqa: BLE001 - a failed run is a result, recorded as such
        result = {
            "target": target,
            "crash_at": format_specs([spec]),
            "seed": seed,
            "error": f"{type(exc).__name__}: {str(exc)[:500]}",
        }
        notes = getattr(exc, "__notes__", None)
        if notes:
            result["log_tails"] = json.loads(notes[-1])
    result["point"] = point
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    result["load_average"] = {"before": load_before, "after": load_average()}
    return result


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    converge = [r["converge_seconds"] for r in ok if r.get("crashes")]
    walls = [r["wall_seconds"] for r in runs]
    loads = [x for r in runs for x in _loads(r)]
    return {
        "runs": len(runs),
        "failed_runs": len(runs) - len(ok),
        "crashed_runs": sum(1 for r in ok if r.get("crashes")),
        "unreached_runs": sum(1 for r in ok if r.get("unreached")),
        "acknowledged_requests": sum(r["acknowledged"] for r in ok),
        "lost": sum(r["lost"] for r in ok),
        "duplicated": sum(r["duplicated"] for r in ok),
        "outbox_pending": sum(sum(r["outbox_pending"].values()) for r in ok),
        "poison_sent": sum(r["poison_sent"] for r in ok),
        "dead_letters": sum(len(r["dead_letters"]) for r in ok),
        "converge_seconds": (
            {
                "median": round(statistics.median(converge), 2),
                "p90": round(_quantile(converge, 0.9), 2),
                "max": max(converge),
            }
            if converge
            else None
        ),
        "wall_seconds_per_run": (
            {"median": round(statistics.median(walls), 1), "max": max(walls)} if walls else None
        ),
        "load_average_1min": (
            {"min": min(loads), "median": round(statistics.median(loads), 2), "max": max(loads)}
            if loads
            else None
        ),
    }


def _loads(run: dict[str, Any]) -> list[float]:
    la = run.get("load_average") or {}
    return [la[k][0] for k in ("before", "after") if k in la]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _key(run: dict[str, Any]) -> tuple[str, int]:
    point = run.get("point") or str(run["crash_at"]).partition(":")[0]
    return point, int(run["seed"])


def _code(run: dict[str, Any]) -> str:
    """The commit of the code a run ran (without the working-tree mark)."""
    return str(run.get("code", "")).split(" ")[0]


def _codes(runs: list[dict[str, Any]]) -> dict[str, int]:
    """Runs per code they ran (a working tree that differed from it is marked)."""
    out: dict[str, int] = {}
    for r in runs:
        out[str(r.get("code"))] = out.get(str(r.get("code")), 0) + 1
    return out


def load_report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def earlier(report: dict[str, Any]) -> dict[str, Any]:
    """A matrix of other code, shortened: its totals and its failed runs."""
    keep = ("date", "commit", "code", "command", "commands", "matrix", "wall_seconds", "totals")
    out = {k: report[k] for k in keep if k in report}
    out["failed_runs"] = [r for r in report.get("runs", []) if "error" in r]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (default 20)")
    parser.add_argument("--seed-start", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--points", nargs="*", default=list(POINTS))
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument(
        "--converge-timeout",
        type=float,
        default=300.0,
        help="seconds a run may take to converge after its last fault",
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="start no further run after this many minutes (the matrix resumes later)",
    )
    parser.add_argument("--retry-failed", action="store_true", help="run failed runs again")
    parser.add_argument("--fresh", action="store_true", help="ignore the runs recorded so far")
    parser.add_argument(
        "--any-code", action="store_true", help="keep recorded runs of other code (see below)"
    )
    parser.add_argument("--stack-dir", type=Path, default=ROOT / ".run" / "fault-bench-stack")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "faults.json")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.points) - set(POINTS))
    if unknown:
        parser.error(f"unknown crash points: {unknown}")
    exit_on_signals()  # SIGTERM/SIGHUP unwind like Ctrl-C: every scenario closes its services

    code, modified = code_version()
    report = load_report(args.out)
    runs: list[dict[str, Any]] = []
    recorded = report.get("runs", [])
    if recorded and not args.fresh and (args.any_code or all(_code(r) == code for r in recorded)):
        runs = list(recorded)
    elif recorded:
        attempts = report.get("earlier_attempts", [])
        if "earlier_attempt" in report:
            attempts.append(earlier(report.pop("earlier_attempt")))
        report["earlier_attempts"] = [earlier(report), *attempts]
        for k in ("note", "sittings", "commands"):
            report.pop(k, None)
    done = {_key(r) for r in runs if "error" not in r or not args.retry_failed}
    planned = [
        (point, seed)
        for seed in range(args.seed_start, args.seed_start + args.seeds)
        for point in args.points
    ]  # seed by seed: an interrupted matrix still covers every point
    todo = [p for p in planned if p not in done]
    print(
        f"code {code[:12]}{' (modified)' if modified else ''}: {len(planned)} runs planned, "
        f"{len(planned) - len(todo)} already recorded, {len(todo)} to run",
        flush=True,
    )

    stack = LocalStack.reuse_or_start(args.stack_dir.resolve())
    command = " ".join(["uv run python bench/faults/run.py", *(argv or sys.argv[1:])])
    sitting = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "commit": commit(),
        "stack_dir": os.path.relpath(args.stack_dir.resolve(), ROOT),
        "runs": 0,
        "load_average_at_start": load_average(),
    }
    sittings = [*report.get("sittings", []), sitting]
    t0 = time.monotonic()

    def write() -> None:
        runs.sort(key=lambda r: (r["seed"], POINTS.index(_key(r)[0])))
        seeds = sorted({r["seed"] for r in runs})
        points = [p for p in POINTS if any(_key(r)[0] == p for r in runs)]
        sitting["wall_seconds"] = round(time.monotonic() - t0, 1)
        sitting["load_average_at_end"] = load_average()
        report.update(
            {
                "machine": machine(),
                "date": sittings[0]["date"],
                "commit": sitting["commit"],
                "code": code,
                "codes": _codes(runs),
                "command": command,
                "sittings": sittings,
                "matrix": {
                    "points": points,
                    "seeds": seeds,
                    "cases_per_run": args.cases,
                    "requests_per_case": 3,
                    "runs_planned": len(POINTS) * 20,
                    "runs_done": len(runs),
                    "complete": {(p, s) for p in POINTS for s in range(20)}
                    <= {_key(r) for r in runs},
                    "per_point": {
                        p: sum(1 for r in runs if _key(r)[0] == p and "error" not in r)
                        for p in POINTS
                    },
                },
                "wall_seconds": round(sum(s.get("wall_seconds", 0) for s in sittings), 1),
                "totals": summary(runs),
                "runs": runs,
            }
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
        tmp.replace(args.out)

    interrupted = False
    try:
        for point, seed in todo:
            if args.max_minutes is not None and time.monotonic() - t0 > 60 * args.max_minutes:
                print(f"--max-minutes {args.max_minutes} reached; stopping", flush=True)
                break
            code, modified = code_version()  # others may commit while the matrix runs
            r = run_one(stack, point, seed, args.cases, args.converge_timeout)
            r["code"] = code + (" (modified)" if modified else "")
            before = [x for x in runs if _key(x) == (point, seed)]
            errors = [e for x in before for e in (*x.get("earlier_errors", ()), x.get("error"))]
            if any(errors):
                r["earlier_errors"] = [e for e in errors if e]
            runs[:] = [x for x in runs if _key(x) != (point, seed)] + [r]
            sitting["runs"] += 1
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
                            "load_average",
                            "error",
                        )
                    }
                ),
                flush=True,
            )
            write()  # after every run, so an interrupted matrix leaves what it did
    except (KeyboardInterrupt, SystemExit):
        interrupted = True
        print("interrupted; the runs so far are recorded", flush=True)
    finally:
        kill_started()  # nothing the runner started outlives it
        if sitting["runs"] or not args.out.exists():
            write()
    print(json.dumps(report.get("totals"), indent=2))
    if interrupted:
        return 130
    t = report.get("totals") or {}
    return 0 if (t.get("lost"), t.get("duplicated"), t.get("failed_runs")) == (0, 0, 0) else 1


if __name__ == "__main__":
    raise SystemExit(main())
