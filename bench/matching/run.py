"""Matching benchmarks: Haven vs Splink on the same machine and data.

    uv run --group bench python bench/matching/run.py all [--sizes 100000,1000000]
    uv run --group bench python bench/matching/run.py one febrl4 haven   # one measurement

Each measurement runs in its own process (so peak memory is its own) and prints JSON; ``all``
collects them into bench/results/matching.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))

import datasets  # noqa: E402

RESULTS = datasets.REPO / "bench" / "results" / "matching.json"


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def one(task_name: str, system: str, extra: str | None = None) -> dict:
    """Run one measurement in this process."""
    import haven_run
    import incremental
    import splink_run

    if system == "incremental":
        return incremental.run(Path(extra or ""))
    if task_name == "febrl4":
        task, a, b = datasets.febrl4()
        out = haven_run.run(task) if system == "haven" else splink_run.febrl4(task, a, b)
    elif task_name == "historical_50k":
        loaded = datasets.historical_50k()
        if isinstance(loaded, str):
            return {"skipped": loaded}
        task, df = loaded
        out = haven_run.run(task) if system == "haven" else splink_run.historical_50k(task, df)
    else:
        task = datasets.synthetic(int(task_name.split("_")[1]))
        out = haven_run.run(task) if system == "haven" else splink_run.migrants(task)
    out["peak_rss_mb"] = _peak_mb()
    return out


RSS_LIMIT_MB = {"haven": 8_000, "splink": 10_000}  # the machine is shared: stop runs above
DEFAULT_RSS_LIMIT_MB = 8_000


def _rss_mb(proc: psutil.Process) -> float:
    try:
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 2**20
    except psutil.Error:
        return 0.0


def _sub(args: list[str], timeout: float, rss_limit_mb: float = DEFAULT_RSS_LIMIT_MB) -> dict:
    """Run one measurement in a child process, stopping it above ``rss_limit_mb`` of RSS."""
    cmd = [sys.executable, __file__, *args]
    t0 = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)  # noqa: S603
        watch = psutil.Process(child.pid)
        peak = 0.0
        stopped = None
        while child.poll() is None:
            peak = max(peak, _rss_mb(watch))
            elapsed = time.perf_counter() - t0
            if peak > rss_limit_mb or elapsed > timeout:
                stopped = (
                    f"stopped by the bench at {peak:.0f} MB resident memory "
                    f"(limit {rss_limit_mb:.0f} MB) after {elapsed:.0f} s"
                    if peak > rss_limit_mb
                    else f"timed out after {timeout:.0f} s"
                )
                child.kill()
                child.wait()
                break
            time.sleep(0.5)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    load = {
        "before": [round(x, 1) for x in load_before],
        "after": [round(x, 1) for x in os.getloadavg()],
    }
    if stopped:
        return {"error": stopped, "peak_rss_mb_watched": round(peak), "load_average": load}
    if child.returncode != 0:
        return {"error": stderr.strip().splitlines()[-1:] or ["failed"], "load_average": load}
    result = json.loads(stdout.strip().splitlines()[-1])
    result.setdefault("process_seconds", round(time.perf_counter() - t0, 1))
    result["load_average"] = load
    return result


def machine() -> dict:
    """CPU model, cores, memory and software versions."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "versions": {
            p: version(p)
            for p in (
                "rapidfuzz",
                "anyascii",
                "numpy",
                "splink",
                "duckdb",
                "pandas",
                "recordlinkage",
            )
        },
        "note": (
            "2 cores shared with other work during the run; timings are wall clock, "
            "cpu_seconds is the measured process's own CPU time; load_average is the "
            "machine's 1/5/15-minute load before and after each measurement"
        ),
    }


def _merge(key: str, value: dict) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault("datasets", {})
    data["machine"] = machine()
    data["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    data.setdefault("commands", [])
    cmd = "uv run --group bench python bench/matching/run.py " + shlex.join(sys.argv[1:])
    if cmd not in data["commands"]:
        data["commands"].append(cmd)
    data["datasets"][key] = value
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["one", "all", "batch", "incremental", "chunks"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--skip-splink", action="store_true")
    ap.add_argument(
        "--splink-timeout", type=float, default=7200, help="seconds before a Splink run is stopped"
    )
    ns = ap.parse_args()
    if ns.mode == "one":
        print(json.dumps(one(*ns.args)))
        return
    if ns.mode == "chunks":
        import incremental

        incremental.write_chunks(int(ns.args[0]), Path(ns.args[1]))
        print("{}")
        return
    sizes = [int(s) for s in ns.sizes.split(",") if s]
    if ns.mode in ("all", "batch"):
        names = ["febrl4", "historical_50k"] if not ns.args else ns.args
        names += [f"synthetic_{s}" for s in sizes] if not ns.args else []
        for name in names:
            entry = {"haven": _sub(["one", name, "haven"], 3600, RSS_LIMIT_MB["haven"])}
            if not ns.skip_splink and "skipped" not in entry["haven"]:
                entry["splink"] = _sub(
                    ["one", name, "splink"], ns.splink_timeout, RSS_LIMIT_MB["splink"]
                )
            key = name
            if name.startswith("synthetic_"):
                key = f"synthetic_{int(name[10:]) // 1000}k"
            _merge(key, entry)
            print(key, json.dumps(entry)[:400], flush=True)
    if ns.mode in ("all", "incremental"):
        for size in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                _sub(["chunks", str(size), tmp], 3600)
                entry = _sub(["one", "-", "incremental", tmp], 3600)
            _merge(f"incremental_{size // 1000}k", entry)
            print(size, json.dumps(entry), flush=True)


if __name__ == "__main__":
    main()
