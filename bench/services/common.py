"""What the service benchmarks share: the machine, versions, uvicorn processes, load, figures."""

from __future__ import annotations

import asyncio
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition

from haven_shared.testing.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]


def stack_from_env() -> LocalStack:
    """The stack in $HAVEN_TEST_STACK_DIR (started there if it is not running)."""
    run_dir = Path(os.environ.get("HAVEN_TEST_STACK_DIR", ROOT / ".run/bench-stack")).resolve()
    return LocalStack.reuse_or_start(run_dir)


def machine() -> dict[str, object]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "os": platform.platform(),
    }


def versions(database_url: str, extra: Iterable[str] = ()) -> dict[str, str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as c:
            pg = str(c.execute(sa.text("show server_version")).scalar_one())
    finally:
        engine.dispose()
    pom = (ROOT / "deploy/kafka/pom.xml").read_text()
    kafka = re.search(r"<kafka.version>(.*?)</kafka.version>", pom)
    out = {
        "python": platform.python_version(),
        "postgresql": pg,
        "kafka_broker": kafka.group(1) if kafka else "unknown",
    }
    for dist in ("fastapi", "uvicorn", "sqlalchemy", "psycopg", "httpx", "kafka-python", *extra):
        out[dist] = metadata.version(dist)
    return out


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (other engineers share this machine)."""
    return [round(x, 2) for x in os.getloadavg()]


def command_line() -> str:
    """How this run was started: its niceness, stack directory and arguments as they were."""
    script = Path(sys.argv[0]).resolve().relative_to(ROOT)
    niceness = os.nice(0)
    stack = os.environ.get("HAVEN_TEST_STACK_DIR")
    return "".join([f"HAVEN_TEST_STACK_DIR={stack} " if stack else "",
                    f"nice -n {niceness} " if niceness else "",
                    "uv run python ", " ".join([str(script), *sys.argv[1:]])])


def percentiles(values_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies in milliseconds (nearest rank)."""
    if not values_ms:
        return {}
    s = sorted(values_ms)

    def rank(p: float) -> float:
        return round(s[min(len(s) - 1, max(0, int(round(p / 100 * len(s))) - 1))], 1)

    return {
        "p50_ms": rank(50),
        "p95_ms": rank(95),
        "p99_ms": rank(99),
        "max_ms": round(s[-1], 1),
        "mean_ms": round(sum(s) / len(s), 1),
    }


@dataclass
class Uvicorn:
    """An ASGI app as a uvicorn process of its own (one worker, no access log)."""

    name: str
    factory: str
    port: int
    env: dict[str, str]
    log: Path
    app_dir: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            self.factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        if self.app_dir:
            args += ["--app-dir", str(self.app_dir)]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                args,
                env=self.env,
                stdout=out,  # noqa: S603
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


@dataclass
class LoadResult:
    """What a closed-loop load run saw (only requests started after the warm-up count)."""

    seconds: float
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s != "201")

    def figures(self) -> dict[str, Any]:
        return {
            "requests_ok": self.ok,
            "errors": self.errors,
            "statuses": self.statuses,
            "seconds": round(self.seconds, 2),
            "concurrency": self.concurrency,
            "throughput_per_s": round(self.ok / self.seconds, 1),
            **percentiles(self.latencies_ms),
        }


async def _closed_loop(
    url: str,
    body: Callable[[int], dict[str, Any]],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    warmup: float,
) -> LoadResult:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timed_from = time.perf_counter() + warmup
    until = timed_from + seconds
    result = LoadResult(seconds=seconds, concurrency=concurrency)
    counter = iter(range(10**9))
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

        async def worker() -> None:
            while (t0 := time.perf_counter()) < until:
                try:
                    r = await client.post(url, json=body(next(counter)))
                    status = str(r.status_code)
                except httpx.HTTPError as exc:
                    status, r = type(exc).__name__, None
                if t0 < timed_from:
                    continue
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if r is not None and r.status_code == 201:
                    result.latencies_ms.append((time.perf_counter() - t0) * 1000)
                    result.created.append(r.json()["id"])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return result


def closed_loop(
    url: str,
    body: Callable[[int], dict[str, Any]],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    warmup: float = 3.0,
) -> LoadResult:
    """`concurrency` clients POST `body(i)` back to back for `seconds` after a warm-up."""
    return asyncio.run(_closed_loop(url, body, headers, concurrency, seconds, warmup))


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return {tp.partition: off for tp, off in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def records_since(
    bootstrap: str, topic: str, start: dict[int, int], timeout: float = 60.0
) -> list[Any]:
    """Every record of `topic` from the offsets `start` (partition → offset) to its end."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 * 2**20
    )
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, start.get(tp.partition, 0))
        ends = consumer.end_offsets(parts)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not read {topic} to its end")
            for recs in consumer.poll(timeout_ms=500).values():
                records.extend(recs)
        return records
    finally:
        consumer.close()


def header(record: Any, name: str) -> str:
    for k, v in record.headers or ():
        if k == name and v is not None:
            return str(v.decode())
    return ""
