"""Unit of work, outbox and relay on SQLite with an in-memory producer."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from backbone_fakes import FakeProducer
from sqlalchemy.orm import Session

from haven_shared.db import make_engine
from haven_shared.events import CaseOpened, ProbeRecorded
from haven_shared.outbox import Outbox, OutboxMessage, create_outbox_table, pending_count
from haven_shared.relay import Relay
from haven_shared.uow import UnitOfWork

OUTBOX = Outbox(source="/haven/test")
NOTE = sa.Table("case_note", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("probe_id", sa.String(50)))


@pytest.fixture
def engine(tmp_path):  # type: ignore[no-untyped-def]
    e = make_engine(f"sqlite:///{tmp_path / 'unit.db'}")
    create_outbox_table(e)
    NOTE.create(e)
    yield e
    e.dispose()


def write(engine: sa.Engine, probe_id: str, seq: int) -> None:
    with UnitOfWork(engine, OUTBOX) as uow:
        uow.session.execute(NOTE.insert().values(probe_id=probe_id))
        uow.emit(ProbeRecorded(probe_id=probe_id, seq=seq))
        uow.commit()


def rows(engine: sa.Engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.execute(sa.select(OutboxMessage).order_by(OutboxMessage.seq)).scalars())


def test_committing_a_unit_of_work_writes_the_state_and_its_debezium_style_outbox_row(
        engine: sa.Engine) -> None:
    write(engine, "p-1", 1)
    (row,) = rows(engine)
    assert (row.aggregatetype, row.aggregateid, row.type) == (
        "test-probe", "p-1", "haven.test.probe.recorded.v2")
    assert row.payload == {"probe_id": "p-1", "seq": 1, "label": ""}
    assert row.headers["ce_id"] == str(row.id) and row.sent_at is None
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(NOTE)).scalar_one() == 1


def test_leaving_a_unit_of_work_without_commit_keeps_neither_state_nor_events(
        engine: sa.Engine) -> None:
    with UnitOfWork(engine, OUTBOX) as uow:
        uow.session.execute(NOTE.insert().values(probe_id="p-1"))
        uow.emit(ProbeRecorded(probe_id="p-1", seq=1))
    with pytest.raises(RuntimeError), UnitOfWork(engine, OUTBOX) as uow:
        uow.emit(ProbeRecorded(probe_id="p-1", seq=1))
        raise RuntimeError("validation failed")
    assert rows(engine) == []
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(NOTE)).scalar_one() == 0


class _Case:
    """A minimal aggregate that records domain events, cosmicpython style."""

    def __init__(self) -> None:
        self.events: list[object] = []


def test_events_recorded_by_tracked_aggregates_are_translated_into_the_outbox(
        engine: sa.Engine) -> None:
    case = _Case()
    case.events += ["opened", "internal-only"]
    translate = {"opened": CaseOpened.example(), "internal-only": None}.get
    with UnitOfWork(engine, OUTBOX, translate=translate) as uow:
        uow.track(case)
        uow.commit()
    assert [r.type for r in rows(engine)] == ["haven.intake.case.opened.v1"]
    assert case.events == []


def test_a_tracked_aggregate_with_a_non_catalogue_event_needs_a_translation(
        engine: sa.Engine) -> None:
    case = _Case()
    case.events.append("opened")
    with pytest.raises(TypeError), UnitOfWork(engine, OUTBOX) as uow:
        uow.track(case)
        uow.commit()
    assert rows(engine) == []


def test_the_relay_publishes_unsent_rows_keyed_by_aggregate_and_marks_them_sent(
        engine: sa.Engine) -> None:
    for seq, probe in enumerate(["a", "b", "a"], start=1):
        write(engine, probe, seq)
    producer = FakeProducer()
    assert Relay(engine, producer, topic_for="haven.test.probe").run_once() == 3  # type: ignore[arg-type]
    assert [(m["key"], json.loads(m["value"])["seq"]) for m in producer.sent] == [
        (b"a", 1), (b"b", 2), (b"a", 3)]
    assert producer.sent[0]["headers"]["ce_type"] == b"haven.test.probe.recorded.v2"
    assert all(r.sent_at is not None for r in rows(engine))
    assert Relay(engine, producer, topic_for="x").run_once() == 0  # type: ignore[arg-type]


def test_rows_go_to_their_event_types_topic_by_default(engine: sa.Engine) -> None:
    with UnitOfWork(engine, OUTBOX) as uow:
        uow.emit(CaseOpened.example())
        uow.emit(ProbeRecorded(probe_id="p", seq=1))
        uow.commit()
    producer = FakeProducer()
    Relay(engine, producer).drain()  # type: ignore[arg-type]
    assert [m["topic"] for m in producer.sent] == ["intake.case", "haven.test.probe"]


def test_after_a_failed_send_the_aggregates_later_events_wait_and_go_out_in_order(
        engine: sa.Engine) -> None:
    for seq, probe in enumerate(["a", "b", "a", "b"], start=1):
        write(engine, probe, seq)
    broken = FakeProducer(fail_when=lambda key, value: json.loads(value)["seq"] == 1)
    assert Relay(engine, broken, topic_for="t").run_once() == 2  # type: ignore[arg-type]
    with Session(engine) as s:
        assert pending_count(s) == 2  # a@1 failed, so a@3 was held back with it
    healed = FakeProducer()
    assert Relay(engine, healed, topic_for="t").drain() == 2  # type: ignore[arg-type]
    assert [json.loads(m["value"])["seq"] for m in healed.sent] == [1, 3]


def test_purging_removes_only_rows_sent_before_the_cut_off(engine: sa.Engine) -> None:
    write(engine, "a", 1)
    relay = Relay(engine, FakeProducer(), topic_for="t")  # type: ignore[arg-type]
    relay.drain()
    write(engine, "a", 2)
    assert relay.purge_sent(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert relay.purge_sent(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert [r.payload["seq"] for r in rows(engine)] == [2]


def test_a_relay_running_forever_survives_a_broker_outage_and_catches_up(
        engine: sa.Engine) -> None:
    write(engine, "a", 1)

    class OutageProducer(FakeProducer):
        outages = 2

        def flush(self, timeout: float | None = None) -> None:
            if self.outages:
                self.outages -= 1
                raise TimeoutError("no broker")

    producer = OutageProducer()
    stop = threading.Event()
    relay = Relay(engine, producer, topic_for="t", idle_seconds=0.01)  # type: ignore[arg-type]
    worker = threading.Thread(target=relay.run_forever, args=(stop,))
    worker.start()
    try:
        for _ in range(500):
            with Session(engine) as s:
                if pending_count(s) == 0:
                    break
            stop.wait(0.02)
    finally:
        stop.set()
        worker.join(30)
    assert producer.outages == 0
    with Session(engine) as s:
        assert pending_count(s) == 0
