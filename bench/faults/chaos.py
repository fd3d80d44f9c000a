"""The random soak at full length: 60 s of cases filed while a seeded chaos loop SIGKILLs random
service processes (tests/fault/soak.py; CI runs 20 s).

    uv run python bench/faults/chaos.py --seconds 60 --seeds 0 1

Adds a "soak" section to `bench/results/faults.json` (the crash matrix's results stay): per
seed the kills, acknowledged requests, lost and duplicated effects, outboxes and the time to
converge after the last kill.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(ROOT / "tests" / "fault"))

from run import commit, machine  # noqa: E402
from soak import Soak  # noqa: E402

from haven_shared.testing.stack import LocalStack  # noqa: E402


def soak_once(stack: LocalStack, seconds: float, seed: int, max_kills: int) -> dict[str, Any]:
    started = time.monotonic()
    try:
        with Soak(stack, seconds=seconds, seed=seed, max_kills=max_kills) as soak:
            result = soak.churn(converge_timeout=300)
            out = result.as_dict()
    except Exception as exc:  # noqa: BLE001 - a failed soak is a result, recorded as such
        out = {"seconds": seconds, "seed": seed, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    out["wall_seconds"] = round(time.monotonic() - started, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-kills", type=int, default=30)
    parser.add_argument("--stack-dir", type=Path, default=ROOT / ".run" / "fault-bench-stack")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "faults.json")
    args = parser.parse_args(argv)
    stack = LocalStack.reuse_or_start(args.stack_dir.resolve())
    runs = []
    for seed in args.seeds:
        runs.append(soak_once(stack, args.seconds, seed, args.max_kills))
        print(
            json.dumps(
                {
                    k: runs[-1].get(k)
                    for k in (
                        "seed",
                        "cases",
                        "acknowledged",
                        "lost",
                        "duplicated",
                        "converge_seconds",
                        "error",
                    )
                }
                | {"kills": len(runs[-1].get("kills", []))}
            ),
            flush=True,
        )
    ok = [r for r in runs if "error" not in r]
    section = {
        "machine": machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": " ".join(["uv run python bench/faults/chaos.py", *(argv or sys.argv[1:])]),
        "totals": {
            "soaks": len(runs),
            "failed": len(runs) - len(ok),
            "kills": sum(len(r["kills"]) for r in ok),
            "acknowledged_requests": sum(r["acknowledged"] for r in ok),
            "lost": sum(r["lost"] for r in ok),
            "duplicated": sum(r["duplicated"] for r in ok),
            "converge_seconds_max": max((r["converge_seconds"] for r in ok), default=None),
        },
        "runs": runs,
    }
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    report["soak"] = section
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps(section["totals"], indent=2))
    t = section["totals"]
    return 0 if (t["lost"], t["duplicated"], t["failed"]) == (0, 0, 0) else 1


if __name__ == "__main__":
    raise SystemExit(main())
