"""Inbox consumer against PostgreSQL and Kafka: effects once, poison events parked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from backbone_helpers import end_offsets, interleaved, read_topic, record_changes
from kafka.structs import TopicPartition
from sqlalchemy.orm import Session

from haven_shared.events import ProbeRecorded
from haven_shared.inbox import DeadLetter, InboxConsumer, InboxEntry, PollResult
from haven_shared.kafka import make_consumer, make_producer
from haven_shared.outbox import Outbox, OutboxMessage
from haven_shared.relay import Relay
from haven_shared.testing.stack import LocalStack
from haven_shared.uow import UnitOfWork

pytestmark = pytest.mark.infra

OUTBOX = Outbox(source="/haven/test")
TALLY = sa.Table("tally", sa.MetaData(),
                 sa.Column("probe_id", sa.String(100), primary_key=True),
                 sa.Column("effects", sa.Integer, nullable=False))


def count_effect(event: ProbeRecorded, uow: UnitOfWork) -> None:
    """The consumer's effect: one more on the probe's tally (applying twice would show)."""
    s = uow.session
    updated = s.execute(TALLY.update().where(TALLY.c.probe_id == event.probe_id)
                        .values(effects=TALLY.c.effects + 1)).rowcount
    if not updated:
        s.execute(TALLY.insert().values(probe_id=event.probe_id, effects=1))


def publish(stack: LocalStack, engine: sa.Engine, topic: str, probe_ids: list[str]) -> None:
    TALLY.create(engine, checkfirst=True)
    record_changes(engine, OUTBOX, probe_ids)
    producer = make_producer(stack.kafka_bootstrap)
    try:
        Relay(engine, producer, topic_for=topic).drain()
    finally:
        producer.close()


def consume_all(consumer: InboxConsumer, expected: int, max_polls: int = 120) -> PollResult:
    """Poll until `expected` records were handled (bounded, so a bug fails instead of hanging)."""
    total = PollResult()
    for _ in range(max_polls):
        r = consumer.poll_once(timeout_ms=500)
        for field in ("applied", "duplicates", "ignored", "dead_lettered"):
            setattr(total, field, getattr(total, field) + getattr(r, field))
        if total.total >= expected:
            break
    consumer.close()
    return total


def effects(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(TALLY.c.effects), 0)))
                   .scalar_one())


def rewinding_factory(stack: LocalStack, topic: str, group: str):  # type: ignore[no-untyped-def]
    """A consumer of every partition of `topic`, positioned at the very beginning."""

    def factory():  # type: ignore[no-untyped-def]
        c = make_consumer(stack.kafka_bootstrap, group)
        parts = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic))]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        return c

    return factory


def test_a_consumer_that_receives_every_event_twice_applies_each_effect_once(
        stack: LocalStack, pg_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic = new_topic("replay")
    publish(stack, pg_engine, topic, interleaved(probes=10, changes=200))
    group = f"{topic}-consumer"
    first = InboxConsumer(pg_engine, lambda: make_consumer(stack.kafka_bootstrap, group, [topic]),
                          {ProbeRecorded: count_effect}, name=group)
    assert consume_all(first, 200).applied == 200
    # Replay: the same group reads the topic again from offset 0.
    again = InboxConsumer(pg_engine, rewinding_factory(stack, topic, group),
                          {ProbeRecorded: count_effect}, name=group)
    result = consume_all(again, 200)
    assert (result.applied, result.duplicates) == (0, 200)
    assert effects(pg_engine) == 200
    with Session(pg_engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(InboxEntry)).scalar_one() == 200


def test_events_published_twice_by_a_crashed_relay_are_applied_once(
        stack: LocalStack, pg_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic = new_topic("republish")
    publish(stack, pg_engine, topic, interleaved(probes=5, changes=50))
    # A relay that died after Kafka acknowledged but before marking rows sent publishes again.
    with pg_engine.begin() as conn:
        conn.execute(sa.update(OutboxMessage).values(sent_at=None))
    producer = make_producer(stack.kafka_bootstrap)
    try:
        Relay(pg_engine, producer, topic_for=topic).drain()
    finally:
        producer.close()
    assert end_offsets(stack.kafka_bootstrap, topic) == 100
    group = f"{topic}-consumer"
    consumer = InboxConsumer(pg_engine,
                             lambda: make_consumer(stack.kafka_bootstrap, group, [topic]),
                             {ProbeRecorded: count_effect}, name=group)
    result = consume_all(consumer, 100)
    assert (result.applied, result.duplicates) == (50, 50)
    assert effects(pg_engine) == 50


def test_a_failing_event_is_dead_lettered_after_its_retries_and_later_events_still_apply(
        stack: LocalStack, pg_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic, dlq = new_topic("poison"), new_topic("poison-dlq", partitions=1)
    # One probe only, so the poison event sits in the middle of a single partition's order.
    publish(stack, pg_engine, topic, ["probe-x"] * 10)
    attempts: list[int] = []

    def fragile(event: ProbeRecorded, uow: UnitOfWork) -> None:
        count_effect(event, uow)  # written, then rolled back by the failure
        if event.seq == 4:
            attempts.append(event.seq)
            raise RuntimeError("shelter directory unavailable")

    group = f"{topic}-consumer"
    producer = make_producer(stack.kafka_bootstrap)
    try:
        consumer = InboxConsumer(
            pg_engine, lambda: make_consumer(stack.kafka_bootstrap, group, [topic]),
            {ProbeRecorded: fragile}, name=group, max_attempts=3, backoff_seconds=0.01,
            dead_letter_producer=producer, dead_letter_topic=dlq)
        result = consume_all(consumer, 10)
    finally:
        producer.close()
    assert (result.applied, result.dead_lettered) == (9, 1)
    # One try inside the poll's shared transaction (rolled back), then three on its own.
    assert attempts == [4, 4, 4, 4]
    assert effects(pg_engine) == 9
    with Session(pg_engine) as s:
        (letter,) = s.execute(sa.select(DeadLetter)).scalars().all()
        entry = s.get(InboxEntry, (group, letter.event_id))
    assert letter.attempts == 3
    assert letter.reason == "RuntimeError"  # never the message: it may quote personal data
    assert letter.event_type == ProbeRecorded.event_type
    assert entry is not None and entry.outcome == "dead-lettered"
    (parked,) = read_topic(stack.kafka_bootstrap, dlq)
    headers = dict(parked.headers)
    assert headers["ce_id"].decode() == letter.event_id
    assert headers["haven_dlq_reason"] == b"RuntimeError"
    assert parked.value == letter.value
