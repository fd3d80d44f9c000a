"""Outbox + relay against PostgreSQL and Kafka: every event exactly once, in order per key."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from backbone_helpers import (
    end_offsets,
    interleaved,
    read_topic,
    record_changes,
    seqs_by_key,
)
from sqlalchemy.orm import Session

from haven_shared.kafka import make_producer
from haven_shared.outbox import Outbox, OutboxMessage, pending_count
from haven_shared.relay import Relay
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra

OUTBOX = Outbox(source="/haven/test")


def _assert_each_once_in_order(stack: LocalStack, topic: str, changes: int, probes: int) -> None:
    assert end_offsets(stack.kafka_bootstrap, topic) == changes
    records = read_topic(stack.kafka_bootstrap, topic)
    ids = [dict(r.headers)["ce_id"] for r in records]
    assert len(ids) == len(set(ids)) == changes
    per_key = seqs_by_key(records)
    assert len(per_key) == probes
    for seqs in per_key.values():
        assert seqs == list(range(1, changes // probes + 1))


def test_a_thousand_state_changes_reach_the_topic_exactly_once_in_order_per_key(
        stack: LocalStack, pg_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic = new_topic("relay")
    record_changes(pg_engine, OUTBOX, interleaved(probes=25, changes=1000))
    producer = make_producer(stack.kafka_bootstrap)
    try:
        published = Relay(pg_engine, producer, topic_for=topic, batch_size=300).drain()
    finally:
        producer.close()
    assert published == 1000
    with Session(pg_engine) as s:
        assert pending_count(s) == 0
    _assert_each_once_in_order(stack, topic, 1000, 25)


def test_two_relays_running_while_changes_are_written_publish_each_event_once(
        stack: LocalStack, pg_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic = new_topic("relays")
    stop = threading.Event()
    producers = [make_producer(stack.kafka_bootstrap, client_id=f"relay-{i}") for i in (1, 2)]
    relays = [Relay(pg_engine, p, topic_for=topic, batch_size=40, idle_seconds=0.05)
              for p in producers]
    threads = [threading.Thread(target=r.run_forever, args=(stop,)) for r in relays]
    for t in threads:
        t.start()
    try:
        record_changes(pg_engine, OUTBOX, interleaved(probes=20, changes=1000))
        # Wait (bounded) until the relays have emptied the outbox.
        for _ in range(600):
            with Session(pg_engine) as s:
                if pending_count(s) == 0:
                    break
            stop.wait(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        for p in producers:
            p.close()
    _assert_each_once_in_order(stack, topic, 1000, 20)


class _HeldProducer:
    """Wraps a producer so its flush waits until the test lets it go."""

    def __init__(self, inner, release: threading.Event, flushing: threading.Event) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.release, self.flushing = inner, release, flushing

    def send(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.inner.send(*args, **kwargs)

    def flush(self, timeout=None):  # type: ignore[no-untyped-def]
        self.flushing.set()
        assert self.release.wait(60)
        return self.inner.flush(timeout=timeout)


def test_a_relay_skips_rows_another_relay_holds_and_never_overtakes_their_aggregates(
        stack: LocalStack, pg_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic = new_topic("skip-locked")
    # Aggregates a and b appear in the first batch; c only after it.
    record_changes(pg_engine, OUTBOX, ["a", "b", "a", "b"] + ["a", "c", "c", "b", "c"])
    release, flushing = threading.Event(), threading.Event()
    first_producer = make_producer(stack.kafka_bootstrap, client_id="first")
    second_producer = make_producer(stack.kafka_bootstrap, client_id="second")
    try:
        first = Relay(pg_engine, _HeldProducer(first_producer, release, flushing),  # type: ignore[arg-type]
                      topic_for=topic, batch_size=4)
        worker = threading.Thread(target=first.run_once)
        worker.start()
        assert flushing.wait(60)  # the first relay now holds rows 1-4 locked, unsent
        second = Relay(pg_engine, second_producer, topic_for=topic, batch_size=100)
        published_meanwhile = second.run_once()
        release.set()
        worker.join(60)
        published_after = second.drain()
    finally:
        release.set()
        first_producer.close()
        second_producer.close()
    # While rows 1-4 were held, only c's rows were free to go: a's and b's later rows wait.
    assert published_meanwhile == 3
    assert published_after == 2
    with Session(pg_engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.sent_at.is_(None))).scalar_one() == 0  # type: ignore[union-attr]
    records = read_topic(stack.kafka_bootstrap, topic)
    assert len(records) == 9
    assert seqs_by_key(records) == {"a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2, 3]}
