"""Benchmark: outbox relay and inbox consumer throughput against PostgreSQL and Kafka.

    nice -n 10 uv run python bench/relay/run.py [--events 20000] [--out bench/results/relay.json]

Uses the stack in $HAVEN_TEST_STACK_DIR (started if needed; default .run/bench-stack). Setup
(writing the outbox rows) is not timed. Timed phases:
- relay: one `Relay` drains N rows (PostgreSQL → Kafka, idempotent producer, acks=all);
- two relays: two `Relay`s drain N rows at once from one database;
- relay on SQLite: one `Relay` drains N rows from a SQLite file;
- consumer: one `InboxConsumer` applies N events (a counter update per event, plus the inbox row,
  one transaction each) and commits offsets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa

from haven_shared.db import make_engine
from haven_shared.events import ProbeRecorded
from haven_shared.inbox import InboxConsumer, create_inbox_tables
from haven_shared.kafka import ensure_topics, make_consumer, make_producer
from haven_shared.outbox import Outbox, create_outbox_table
from haven_shared.relay import Relay
from haven_shared.testing.stack import LocalStack
from haven_shared.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
TALLY = sa.Table("tally", sa.MetaData(), sa.Column("probe_id", sa.String(100), primary_key=True),
                 sa.Column("effects", sa.Integer, nullable=False))


def machine() -> dict[str, object]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    return {"cpu_model": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "os": platform.platform()}


def versions(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as c:
        pg = c.execute(sa.text("show server_version")).scalar_one()
    pom = (ROOT / "deploy/kafka/pom.xml").read_text()
    kafka = re.search(r"<kafka.version>(.*?)</kafka.version>", pom)
    return {"python": platform.python_version(), "kafka-python": metadata.version("kafka-python"),
            "sqlalchemy": metadata.version("sqlalchemy"), "postgresql": str(pg),
            "kafka_broker": kafka.group(1) if kafka else "unknown"}


def fresh_pg(stack: LocalStack) -> tuple[sa.Engine, sa.Engine, str]:
    admin_url = sa.make_url(stack.database_url("intake"))
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin_url.set(database=name).render_as_string(hide_password=False))
    prepare(engine)
    return admin, engine, name


def prepare(engine: sa.Engine) -> None:
    create_outbox_table(engine)
    create_inbox_tables(engine)
    TALLY.create(engine, checkfirst=True)


def fill_outbox(engine: sa.Engine, events: int, aggregates: int = 200, per_tx: int = 500) -> None:
    """N outbox rows over `aggregates` keys (not timed; batched for speed)."""
    outbox = Outbox(source="/haven/bench")
    seq: dict[str, int] = {}
    for start in range(0, events, per_tx):
        with UnitOfWork(engine, outbox) as uow:
            for i in range(start, min(events, start + per_tx)):
                key = f"probe-{i % aggregates:04d}"
                seq[key] = seq.get(key, 0) + 1
                uow.emit(ProbeRecorded(probe_id=key, seq=seq[key], label="benchmark"))
            uow.commit()


def time_relays(stack: LocalStack, engine: sa.Engine, topic: str, relays: int) -> float:
    producers = [make_producer(stack.kafka_bootstrap, client_id=f"bench-{i}")
                 for i in range(relays)]
    counts: list[int] = []
    workers = [threading.Thread(target=lambda p=p: counts.append(
        Relay(engine, p, topic_for=topic, batch_size=500).drain())) for p in producers]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    for p in producers:
        p.close()
    return sum(counts) / elapsed


def count_effect(event: ProbeRecorded, uow: UnitOfWork) -> None:
    s = uow.session
    if not s.execute(TALLY.update().where(TALLY.c.probe_id == event.probe_id)
                     .values(effects=TALLY.c.effects + 1)).rowcount:
        s.execute(TALLY.insert().values(probe_id=event.probe_id, effects=1))


def time_consumer(stack: LocalStack, engine: sa.Engine, topic: str, events: int) -> float:
    group = f"{topic}-bench"
    consumer = InboxConsumer(engine, lambda: make_consumer(stack.kafka_bootstrap, group, [topic]),
                             {ProbeRecorded: count_effect}, name=group)
    consumer.poll_once(timeout_ms=100)  # join the group before the clock starts (few records)
    done, t0 = 0, time.perf_counter()
    while done < events:
        done += consumer.poll_once(timeout_ms=1000).total
    elapsed = time.perf_counter() - t0
    consumer.close()
    return done / elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--out", default=str(ROOT / "bench/results/relay.json"))
    args = ap.parse_args()
    n = args.events
    run_dir = Path(os.environ.get("HAVEN_TEST_STACK_DIR", ROOT / ".run/bench-stack")).resolve()
    stack = LocalStack.reuse_or_start(run_dir)
    load_before = os.getloadavg()[0]
    results: dict[str, float] = {}

    admin, engine, name = fresh_pg(stack)
    try:
        topic = f"bench.relay.{uuid.uuid4().hex[:8]}"
        ensure_topics(stack.kafka_bootstrap, {topic: 6})
        fill_outbox(engine, n)
        results["relay_postgres_events_per_s"] = time_relays(stack, engine, topic, 1)
        results["consumer_postgres_events_per_s"] = time_consumer(stack, engine, topic, n)
        fill_outbox(engine, n)
        results["two_relays_postgres_events_per_s"] = time_relays(stack, engine, topic, 2)
        meta = versions(engine)
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    with tempfile.TemporaryDirectory() as tmp:
        lite = make_engine(f"sqlite:///{tmp}/bench.db")
        prepare(lite)
        topic = f"bench.relay-sqlite.{uuid.uuid4().hex[:8]}"
        ensure_topics(stack.kafka_bootstrap, {topic: 6})
        fill_outbox(lite, n)
        results["relay_sqlite_events_per_s"] = time_relays(stack, lite, topic, 1)
        results["consumer_sqlite_events_per_s"] = time_consumer(stack, lite, topic, n)
        lite.dispose()

    report = {
        "benchmark": "outbox relay and inbox consumer throughput",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": meta,
        "command": "nice -n 10 uv run python " + " ".join(
            [str(Path(sys.argv[0]).resolve().relative_to(ROOT))] + sys.argv[1:]),
        "events": n,
        # Other work on the machine shifts these figures; the 1-minute load says how busy it was.
        "load_average_1min": {"start": round(load_before, 2),
                              "end": round(os.getloadavg()[0], 2)},
        "setup": {"aggregates": 200, "topic_partitions": 6, "relay_batch_size": 500,
                  "producer": "idempotent, acks=all, linger_ms=5",
                  "consumer_effect": "one counter UPDATE + inbox row per event; up to 100 "
                                     "events per transaction (the InboxConsumer default); "
                                     "offsets committed per poll",
                  "note": "PostgreSQL, Kafka and the benchmark share the 2 cores"},
        "results": {k: round(v, 1) for k, v in results.items()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["results"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
