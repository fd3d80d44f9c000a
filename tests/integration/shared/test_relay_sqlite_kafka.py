"""The embedded default: outbox on SQLite, relayed to the real Kafka."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from backbone_helpers import end_offsets, interleaved, read_topic, record_changes, seqs_by_key
from sqlalchemy.orm import Session

from haven_shared.kafka import make_producer
from haven_shared.outbox import Outbox, pending_count
from haven_shared.relay import Relay
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra


def test_two_relays_on_one_sqlite_database_publish_each_event_once_in_order(
        stack: LocalStack, sqlite_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic = new_topic("sqlite")
    record_changes(sqlite_engine, Outbox(source="/haven/test"), interleaved(probes=8, changes=200))
    producers = [make_producer(stack.kafka_bootstrap, client_id=f"lite-{i}") for i in (1, 2)]
    counts: list[int] = []
    relays = [Relay(sqlite_engine, p, topic_for=topic, batch_size=20) for p in producers]
    threads = [threading.Thread(target=lambda r=r: counts.append(r.drain())) for r in relays]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for p in producers:
            p.close()
    assert sum(counts) == 200
    with Session(sqlite_engine) as s:
        assert pending_count(s) == 0
    assert end_offsets(stack.kafka_bootstrap, topic) == 200
    per_key = seqs_by_key(read_topic(stack.kafka_bootstrap, topic))
    assert all(seqs == list(range(1, 26)) for seqs in per_key.values())
    assert len(per_key) == 8
