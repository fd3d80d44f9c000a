"""Inbox consumer on SQLite with an in-memory consumer: dedup, dead letters, offsets."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from backbone_fakes import FakeConsumer, FakeRecord, record_from
from sqlalchemy.orm import Session

from haven_shared.db import make_engine
from haven_shared.events import CaseOpened, Envelope, ProbeRecorded, ProbeRecordedV1
from haven_shared.inbox import (
    DeadLetter,
    DependencyUnavailable,
    InboxConsumer,
    create_inbox_tables,
)
from haven_shared.outbox import Outbox, OutboxMessage, create_outbox_table
from haven_shared.uow import UnitOfWork

SEEN = sa.Table("seen", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("probe_id", sa.String(50)), sa.Column("seq", sa.Integer))


@pytest.fixture
def engine(tmp_path):  # type: ignore[no-untyped-def]
    e = make_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    create_outbox_table(e)
    create_inbox_tables(e)
    SEEN.create(e)
    yield e
    e.dispose()


def note(event: ProbeRecorded, uow: UnitOfWork) -> None:
    uow.session.execute(SEEN.insert().values(probe_id=event.probe_id, seq=event.seq))


def seen(engine: sa.Engine) -> list[tuple[str, int]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.select(SEEN.c.probe_id, SEEN.c.seq)
                                            .order_by(SEEN.c.id))]


def probe_record(seq: int, offset: int, probe_id: str = "p") -> FakeRecord:
    return record_from(Envelope.wrap(ProbeRecorded(probe_id=probe_id, seq=seq), "/haven/test"),
                       offset=offset)


def consumer_of(engine: sa.Engine, fake: FakeConsumer, handlers=None, **kw) -> InboxConsumer:  # type: ignore[no-untyped-def]
    return InboxConsumer(engine, lambda: fake, handlers or {ProbeRecorded: note}, name="unit",
                         sleep=lambda _s: None, **kw)


def test_offsets_are_committed_after_the_records_effects_are_in_the_database(
        engine: sa.Engine) -> None:
    fake = FakeConsumer([probe_record(1, 0), probe_record(2, 1)])
    at_commit: list[list[tuple[str, int]]] = []
    fake.on_commit = lambda: at_commit.append(seen(engine))
    result = consumer_of(engine, fake).poll_once()
    assert result.applied == 2
    assert at_commit == [[("p", 1), ("p", 2)]]
    ((tp, offset),) = fake.commits[0].items()
    assert (tp.topic, tp.partition, offset.offset) == ("t", 0, 2)


def test_a_redelivered_event_is_skipped(engine: sa.Engine) -> None:
    first = probe_record(1, 0)
    again = FakeRecord(first.topic, 0, 1, first.key, first.value, first.headers)
    result = consumer_of(engine, FakeConsumer([first, again])).poll_once()
    assert (result.applied, result.duplicates) == (1, 1)
    assert seen(engine) == [("p", 1)]


def test_a_handler_failing_every_time_is_dead_lettered_and_the_next_event_applies(
        engine: sa.Engine) -> None:
    calls: list[int] = []

    def picky(event: ProbeRecorded, uow: UnitOfWork) -> None:
        calls.append(event.seq)
        note(event, uow)
        if event.seq == 1:
            raise LookupError("no provider for this need")

    delays: list[float] = []
    consumer = InboxConsumer(engine, lambda: FakeConsumer([probe_record(1, 0),
                                                           probe_record(2, 1)]),
                             {ProbeRecorded: picky}, name="unit", max_attempts=4,
                             backoff_seconds=0.5, max_backoff_seconds=1.5, sleep=delays.append)
    result = consumer.poll_once()
    assert (result.applied, result.dead_lettered) == (1, 1)
    # Once in the batch's shared transaction (rolled back), then four times on its own.
    assert calls == [1, 1, 1, 1, 1, 2]
    assert delays == [0.5, 1.0, 1.5]  # exponential, capped
    assert seen(engine) == [("p", 2)]  # the failed attempts left nothing behind
    with Session(engine) as s:
        (letter,) = s.execute(sa.select(DeadLetter)).scalars()
    # The type only: an exception's message may quote personal data.
    assert (letter.attempts, letter.reason) == (4, "LookupError")


def test_a_handler_that_fails_once_is_retried_and_applied(engine: sa.Engine) -> None:
    failures = [RuntimeError("deadlock detected")]

    def flaky(event: ProbeRecorded, uow: UnitOfWork) -> None:
        note(event, uow)
        if failures:
            raise failures.pop()

    result = consumer_of(engine, FakeConsumer([probe_record(1, 0)]),
                         {ProbeRecorded: flaky}).poll_once()
    assert result.applied == 1 and seen(engine) == [("p", 1)]


def test_unreadable_records_are_dead_lettered_at_once_without_echoing_values(
        engine: sa.Engine) -> None:
    bad_body = Envelope.wrap(ProbeRecorded(probe_id="p", seq=1), "/haven/test")
    records = [
        FakeRecord("t", 0, 0, b"k", b"{}", []),  # not a CloudEvent
        FakeRecord("t", 0, 1, b"k", b'{"probe_id": "Amina Yusuf", "seq": -5}',
                   bad_body.kafka_headers()),  # fails validation
    ]
    result = consumer_of(engine, FakeConsumer(records)).poll_once()
    assert result.dead_lettered == 2
    with Session(engine) as s:
        letters = list(s.execute(sa.select(DeadLetter).order_by(DeadLetter.offset)).scalars())
    assert [x.attempts for x in letters] == [0, 0]
    assert letters[0].reason.startswith("MalformedEvent")
    assert letters[1].reason == "ValidationError: seq (greater_than_equal)"


def test_an_old_version_is_upcast_before_it_reaches_the_handler(engine: sa.Engine) -> None:
    old = record_from(Envelope.wrap(ProbeRecordedV1(probe_id="p", n=4), "/haven/test"))
    assert consumer_of(engine, FakeConsumer([old])).poll_once().applied == 1
    assert seen(engine) == [("p", 4)]


def test_event_types_without_a_handler_are_passed_over(engine: sa.Engine) -> None:
    other = record_from(Envelope.wrap(CaseOpened.example(), "/haven/intake"))
    result = consumer_of(engine, FakeConsumer([other])).poll_once()
    assert result.ignored == 1 and seen(engine) == []


def test_an_unknown_version_of_a_handled_event_is_dead_lettered_not_dropped(
        engine: sa.Engine) -> None:
    future = Envelope.wrap(ProbeRecorded(probe_id="p", seq=1), "/haven/test")
    headers = [(k, b"haven.test.probe.recorded.v9" if k == "ce_type" else v)
               for k, v in future.kafka_headers()]
    records = [FakeRecord("t", 0, 0, b"p", future.body(), headers), probe_record(2, offset=1)]
    result = consumer_of(engine, FakeConsumer(records)).poll_once()
    assert (result.dead_lettered, result.applied, result.ignored) == (1, 1, 0)
    with Session(engine) as s:
        [letter] = s.execute(sa.select(DeadLetter)).scalars()
    assert letter.reason.startswith("UnknownEventType")
    assert seen(engine) == [("p", 2)]


def test_events_a_handler_emits_are_written_to_the_outbox_in_the_same_transaction(
        engine: sa.Engine) -> None:
    def react(event: ProbeRecorded, uow: UnitOfWork) -> None:
        note(event, uow)
        uow.emit(ProbeRecorded(probe_id=f"{event.probe_id}-echo", seq=event.seq))

    consumer_of(engine, FakeConsumer([probe_record(1, 0)]), {ProbeRecorded: react},
                outbox=Outbox("/haven/registry")).poll_once()
    with Session(engine) as s:
        (row,) = s.execute(sa.select(OutboxMessage)).scalars()
    assert (row.aggregateid, row.headers["ce_source"]) == ("p-echo", "/haven/registry")


def test_records_of_one_poll_share_a_transaction_until_one_fails(engine: sa.Engine) -> None:
    commits: list[int] = []
    sa.event.listen(engine, "commit", lambda conn: commits.append(1))
    records = [probe_record(seq, seq - 1) for seq in range(1, 6)]
    result = consumer_of(engine, FakeConsumer(records)).poll_once()
    assert result.applied == 5 and len(commits) == 1
    assert seen(engine) == [("p", s) for s in range(1, 6)]


def test_a_replayed_dead_letter_is_applied_once_its_cause_is_fixed(engine: sa.Engine) -> None:
    broken = {"yes"}

    def needs_directory(event: ProbeRecorded, uow: UnitOfWork) -> None:
        if broken:
            raise ConnectionError("directory down")
        note(event, uow)

    consumer = consumer_of(engine, FakeConsumer([probe_record(1, 0)]),
                           {ProbeRecorded: needs_directory}, max_attempts=2)
    assert consumer.poll_once().dead_lettered == 1
    assert list(consumer.replay_dead_letters().values()) == ["dead_lettered"]  # still broken
    broken.clear()
    assert list(consumer.replay_dead_letters().values()) == ["applied"]
    assert consumer.replay_dead_letters() == {}
    assert seen(engine) == [("p", 1)]
    with Session(engine) as s:
        assert s.execute(sa.select(DeadLetter)).first() is None


def test_a_consumer_loop_rebuilds_its_kafka_consumer_after_a_failure(engine: sa.Engine) -> None:
    stop = threading.Event()
    built: list[FakeConsumer] = []

    class Broken(FakeConsumer):
        def poll(self, timeout_ms: int = 0, max_records: int | None = None):  # type: ignore[no-untyped-def]
            raise OSError("connection reset")

    def factory() -> FakeConsumer:
        fake = Broken([]) if not built else FakeConsumer([probe_record(1, 0)])
        built.append(fake)
        if len(built) > 1:
            fake.on_commit = stop.set  # done once the record is committed
        return fake

    consumer = InboxConsumer(engine, factory, {ProbeRecorded: note}, name="unit",  # type: ignore[arg-type]
                             backoff_seconds=0.001)
    worker = threading.Thread(target=consumer.run_forever, args=(stop, 10))
    worker.start()
    worker.join(30)
    stop.set()
    assert seen(engine) == [("p", 1)]
    assert built[0].closed and len(built) >= 2


def test_a_dependency_outage_is_waited_out_not_parked_and_nothing_behind_it_is_skipped(
        engine: sa.Engine) -> None:
    """While the handler's dependency is down, the poll commits no offset and parks nothing;
    the rebuilt consumer gets the records again and applies each once, in order."""
    stop = threading.Event()
    down = [3]  # the dependency fails the first three calls
    built: list[FakeConsumer] = []

    def needs_intake(event: ProbeRecorded, uow: UnitOfWork) -> None:
        if event.seq == 2 and down[0]:
            down[0] -= 1
            raise DependencyUnavailable("intake: ConnectError")
        note(event, uow)

    records = [probe_record(seq, seq - 1) for seq in (1, 2, 3)]

    def factory() -> FakeConsumer:
        # Each build hands out the poll again from the last committed offset (here: the start).
        fake = FakeConsumer(records)
        fake.on_commit = stop.set
        built.append(fake)
        return fake

    consumer = InboxConsumer(engine, factory, {ProbeRecorded: needs_intake}, name="unit",  # type: ignore[arg-type]
                             backoff_seconds=0.001, max_attempts=2)
    worker = threading.Thread(target=consumer.run_forever, args=(stop, 10))
    worker.start()
    worker.join(30)
    stop.set()
    assert seen(engine) == [("p", 1), ("p", 2), ("p", 3)]
    assert down == [0] and len(built) >= 2 and built[0].closed
    assert all(f.commits == [] for f in built[:-1])  # no offset moved during the outage
    ((tp, offset),) = built[-1].commits[0].items()
    assert offset.offset == 3
    with Session(engine) as s:
        assert s.execute(sa.select(DeadLetter)).first() is None


def test_a_replay_while_the_dependency_is_still_down_parks_the_record_again(
        engine: sa.Engine) -> None:
    down = {"yes"}

    def needs_intake(event: ProbeRecorded, uow: UnitOfWork) -> None:
        if down:
            raise DependencyUnavailable("intake: ConnectError")
        note(event, uow)

    parked = consumer_of(engine, FakeConsumer([probe_record(1, 0)]),
                         {ProbeRecorded: lambda e, u: (_ for _ in ()).throw(LookupError())},
                         max_attempts=1)
    assert parked.poll_once().dead_lettered == 1
    consumer = consumer_of(engine, FakeConsumer([]), {ProbeRecorded: needs_intake})
    assert list(consumer.replay_dead_letters().values()) == ["dead_lettered"]
    with Session(engine) as s:
        (letter,) = s.execute(sa.select(DeadLetter)).scalars()
        assert letter.reason == "DependencyUnavailable" and letter.event_id is not None
    down.clear()
    assert list(consumer.replay_dead_letters().values()) == ["applied"]
    assert seen(engine) == [("p", 1)]
