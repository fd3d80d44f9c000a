"""On PostgreSQL, writers of one aggregate's events take turns, so `seq` order is commit order."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from haven_shared.events import ProbeRecorded
from haven_shared.outbox import Outbox, OutboxMessage
from haven_shared.uow import UnitOfWork

pytestmark = pytest.mark.infra

OUTBOX = Outbox(source="/haven/test")


def _write(engine: sa.Engine, probe_id: str, seq: int) -> None:
    with UnitOfWork(engine, OUTBOX) as uow:
        uow.emit(ProbeRecorded(probe_id=probe_id, seq=seq))
        uow.commit()


def _waiting_on_advisory_locks(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text(
            "select count(*) from pg_locks where locktype = 'advisory' and not granted"
        )).scalar_one())


def test_a_second_writer_of_the_same_aggregate_waits_for_the_first_to_commit(
        pg_engine: sa.Engine) -> None:
    first = UnitOfWork(pg_engine, OUTBOX).__enter__()
    try:
        first.emit(ProbeRecorded(probe_id="case-7", seq=1))
        first.flush_events()
        first.session.flush()  # row inserted, seq taken, transaction still open

        other_case = threading.Thread(target=_write, args=(pg_engine, "case-8", 1))
        other_case.start()
        other_case.join(60)
        assert not other_case.is_alive()  # another aggregate is not held up

        same_case = threading.Thread(target=_write, args=(pg_engine, "case-7", 2))
        same_case.start()
        for _ in range(600):
            if _waiting_on_advisory_locks(pg_engine):
                break
            same_case.join(0.05)
        assert _waiting_on_advisory_locks(pg_engine) == 1
        first.commit()
    finally:
        first.__exit__(None, None, None)
    same_case.join(60)
    with pg_engine.connect() as c:
        order = c.execute(sa.select(OutboxMessage.aggregateid, OutboxMessage.payload)
                          .order_by(OutboxMessage.seq)).all()
    assert [(agg, p["seq"]) for agg, p in order] == [("case-7", 1), ("case-8", 1), ("case-7", 2)]
