"""Helpers for the event-backbone integration tests: a probe aggregate and topic readers."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from haven_shared.events import ProbeRecorded
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork

METADATA = sa.MetaData()
# The state a test changes: one row per probe aggregate, `seq` counts its changes, `applied`
# counts the effects a consumer applied.
PROBE = sa.Table(
    "probe", METADATA,
    sa.Column("probe_id", sa.String(100), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False, default=0),
    sa.Column("applied", sa.Integer, nullable=False, default=0),
)


def change_probe(uow: UnitOfWork, probe_id: str, label: str = "") -> ProbeRecorded:
    """One state change of a probe and its event, in the unit of work's transaction."""
    s = uow.session
    current = s.execute(sa.select(PROBE.c.seq).where(PROBE.c.probe_id == probe_id)
                        .with_for_update()).scalar_one_or_none()
    if current is None:
        s.execute(PROBE.insert().values(probe_id=probe_id, seq=1, applied=0))
        seq = 1
    else:
        seq = current + 1
        s.execute(PROBE.update().where(PROBE.c.probe_id == probe_id).values(seq=seq))
    event = ProbeRecorded(probe_id=probe_id, seq=seq, label=label)
    uow.emit(event)
    return event


def record_changes(engine: sa.Engine, outbox: Outbox, probe_ids: Iterable[str]) -> int:
    """One committed transaction per change, in the given order; returns how many."""
    n = 0
    for probe_id in probe_ids:
        with UnitOfWork(engine, outbox) as uow:
            change_probe(uow, probe_id)
            uow.commit()
        n += 1
    return n


def interleaved(probes: int, changes: int) -> list[str]:
    """`changes` probe ids cycling over `probes` aggregates."""
    return [f"probe-{i % probes:03d}" for i in range(changes)]


def end_offsets(bootstrap: str, topic: str) -> int:
    """How many messages the topic holds (no transactions, so offsets count messages)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or [])]
        return sum(c.end_offsets(parts).values())
    finally:
        c.close()


def read_topic(bootstrap: str, topic: str, max_polls: int = 200) -> list[Any]:
    """Every message of the topic, in partition order (each partition in offset order)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or [])]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        ends = c.end_offsets(parts)
        out: dict[TopicPartition, list[Any]] = defaultdict(list)
        for _ in range(max_polls):
            if all(c.position(tp) >= ends[tp] for tp in parts):
                break
            for tp, records in c.poll(timeout_ms=500).items():
                out[tp].extend(records)
        return [r for tp in parts for r in out[tp]]
    finally:
        c.close()


def seqs_by_key(records: Iterable[Any]) -> dict[str, list[int]]:
    """Probe key → the `seq` values in the order the topic holds them."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for r in records:
        by_key[r.key.decode()].append(json.loads(r.value)["seq"])
    return dict(by_key)


def header(record: Any, name: str) -> str | None:
    """One header of a consumed record, as text."""
    for k, v in record.headers or ():
        if k == name:
            return v.decode()
    return None
