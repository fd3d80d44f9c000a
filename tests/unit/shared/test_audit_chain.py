"""The audit chain on SQLite: appends commit or roll back with the caller's transaction, an
untouched chain verifies, and every kind of tampering is reported at the right entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from audit_tamper import KEY, TAMPER_CASES, build_chain, delete, record, rehash_from, reorder
from pydantic import ValidationError
from sqlalchemy.orm import Session

from haven_shared.audit import (
    GENESIS_HASH,
    AuditLog,
    AuditRecord,
    checkpoint_key,
    create_audit_tables,
    load_checkpoints,
    verify_chain,
)
from haven_shared.audit.model import audit_entry_table
from haven_shared.db import make_engine
from haven_shared.outbox import Outbox, create_outbox_table
from haven_shared.uow import UnitOfWork


@pytest.fixture
def engine(tmp_path) -> Iterator[sa.Engine]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    create_audit_tables(engine)
    yield engine
    engine.dispose()


def verify(engine: sa.Engine, key: bytes = KEY):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return verify_chain(s, key)


def test_an_empty_chain_verifies(engine: sa.Engine) -> None:
    result = verify(engine)
    assert result.ok and result.entries == 0 and result.first_broken_seq is None


def test_an_untampered_chain_verifies_with_its_checkpoints(engine: sa.Engine) -> None:
    build_chain(engine, 20, every=5)
    result = verify(engine)
    assert result.ok, result
    assert (result.entries, result.checkpoints, result.last_seq) == (20, 4, 20)


def test_entries_link_to_their_predecessor_from_the_genesis_hash(engine: sa.Engine) -> None:
    build_chain(engine, 3)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit_entry_table).order_by("seq")).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert rows[1].prev_hash == rows[0].entry_hash and rows[2].prev_hash == rows[1].entry_hash


def test_an_entry_rolls_back_with_the_callers_transaction(engine: sa.Engine) -> None:
    log = build_chain(engine, 2)
    with Session(engine) as s:
        s.begin()
        log.append(s, record(3))
        s.rollback()
    with Session(engine) as s, s.begin():
        entry = log.append(s, record(4))
    assert entry.seq == 3  # the rolled-back number is reused: no gap
    assert verify(engine).ok


def test_a_checkpoint_can_be_signed_on_demand(engine: sa.Engine) -> None:
    log = build_chain(engine, 3, every=100)
    with Session(engine) as s, s.begin():
        cp = log.checkpoint(s)
    assert cp is not None and cp.seq == 3 and cp.signature_valid(KEY)
    with Session(engine) as s:
        assert [c.seq for c in load_checkpoints(s)] == [3]


def test_appending_creates_the_chain_head_when_tables_were_made_without_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from haven_shared.audit import audit_tables
    from haven_shared.audit.model import _METADATA

    engine = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    _METADATA.create_all(engine, tables=audit_tables())
    build_chain(engine, 2)
    assert verify(engine).ok and verify(engine).entries == 2


def test_records_refuse_free_text_where_identifiers_belong() -> None:
    with pytest.raises(ValidationError):
        AuditRecord(actor="Maria Lopez", organisation="ngo-a", action="case.read",
                    object_type="case", object_id="c1")
    with pytest.raises(ValidationError):
        AuditRecord(actor="u1", organisation="ngo-a", action="case.read",
                    object_type="case", object_id="maria@example.org")


def test_concurrent_appenders_on_sqlite_make_one_unbroken_chain(engine: sa.Engine) -> None:
    log = AuditLog("intake", KEY, checkpoint_every=7)

    def work(worker: int) -> None:
        for i in range(10):
            with Session(engine) as s, s.begin():
                log.append(s, record(worker * 100 + i))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = verify(engine)
    assert result.ok, result
    assert result.entries == 40 and result.last_seq == 40


@pytest.mark.parametrize(("name", "tamper", "reason", "first_broken"), TAMPER_CASES,
                         ids=[c[0] for c in TAMPER_CASES])
def test_tampering_is_reported_at_the_first_broken_entry(  # type: ignore[no-untyped-def]
    engine: sa.Engine, name, tamper, reason, first_broken
) -> None:
    build_chain(engine, 20, every=5)
    tamper(engine)
    result = verify(engine)
    assert not result.ok
    assert (result.reason, result.first_broken_seq) == (reason, first_broken), result.detail


def test_a_rehash_is_pinned_to_the_entry_when_every_entry_is_checkpointed(
    engine: sa.Engine,
) -> None:
    build_chain(engine, 10, every=1)
    rehash_from(engine, 6)
    result = verify(engine)
    assert (result.reason, result.first_broken_seq, result.detected_at_seq) == ("rehashed", 6, 6)


def test_a_rehash_after_the_newest_checkpoint_is_not_detectable(engine: sa.Engine) -> None:
    # The documented limit: entries no checkpoint covers yet are protected by the chain only.
    build_chain(engine, 12, every=5)
    rehash_from(engine, 12)
    assert verify(engine).ok


def test_checkpoints_signed_under_another_key_do_not_verify(engine: sa.Engine) -> None:
    build_chain(engine, 5, every=5)
    result = verify(engine, key=checkpoint_key("some-other-master-key"))
    assert (result.ok, result.reason) == (False, "forged_checkpoint")


def test_a_tail_removed_behind_the_newest_checkpoint_is_caught_by_the_chain_head(
    engine: sa.Engine,
) -> None:
    build_chain(engine, 12, every=5)
    delete(engine, 12)
    delete(engine, 11)
    result = verify(engine)
    assert (result.reason, result.first_broken_seq, result.detected_at_seq) == (
        "truncated", 11, 12)


def test_appends_inside_a_unit_of_work_commit_and_roll_back_with_it(engine: sa.Engine) -> None:
    log = AuditLog("intake", KEY)
    create_outbox_table(engine)
    outbox = Outbox(source="/haven/intake")
    with UnitOfWork(engine, outbox) as uow:
        log.append(uow.session, record(1))
        uow.commit()
    with UnitOfWork(engine, outbox) as uow:
        log.append(uow.session, record(2))  # left without commit: rolled back
    with engine.connect() as conn:
        ids = conn.execute(sa.select(audit_entry_table.c.object_id)).scalars().all()
    assert ids == ["case-1"]
    assert verify(engine).ok


def test_a_refusal_is_recorded_in_a_transaction_of_its_own(engine: sa.Engine) -> None:
    log = AuditLog("intake", KEY)
    with Session(engine) as s:
        s.begin()
        log.append_committed(engine, record(1).model_copy(update={"outcome": "denied"}))
        s.rollback()  # the refused action's own transaction
    with engine.connect() as conn:
        outcomes = conn.execute(sa.select(audit_entry_table.c.outcome)).scalars().all()
    assert outcomes == ["denied"]


@pytest.mark.parametrize("page", [1, 3, 4])
def test_tampering_across_a_page_boundary_is_still_placed_exactly(
    engine: sa.Engine, page: int
) -> None:
    build_chain(engine, 10, every=5)
    with Session(engine) as s:
        assert verify_chain(s, KEY, page=page).ok
    reorder(engine, 3, 4)
    with Session(engine) as s:
        result = verify_chain(s, KEY, page=page)
    assert (result.reason, result.first_broken_seq) == ("reordered", 3)


def test_an_entry_numbered_before_the_first_is_reported_as_inserted(engine: sa.Engine) -> None:
    build_chain(engine, 3)
    with engine.begin() as conn:
        first = conn.execute(sa.select(audit_entry_table).where(audit_entry_table.c.seq == 1)
                             ).one()._asdict()
        conn.execute(audit_entry_table.insert().values({**first, "seq": 0}))
    result = verify(engine)
    assert (result.reason, result.first_broken_seq) == ("inserted", 0)


def test_queued_entries_commit_with_the_action_and_are_linked_after_it(
    engine: sa.Engine,
) -> None:
    log = build_chain(engine, 2, every=3)
    with Session(engine) as s, s.begin():
        log.enqueue(s, record(3))
        log.enqueue(s, record(4))
    with Session(engine) as s:
        s.begin()
        log.enqueue(s, record(99))
        s.rollback()  # a rolled-back action leaves no queued entry
    queued = verify(engine)
    assert queued.ok and (queued.entries, queued.queued) == (2, 2)
    log.chain_after_commit(engine)
    result = verify(engine)
    assert result.ok, result
    assert (result.entries, result.last_seq, result.queued, result.checkpoints) == (4, 4, 0, 1)
    with engine.connect() as conn:
        ids = conn.execute(sa.select(audit_entry_table.c.object_id)
                           .order_by(audit_entry_table.c.seq)).scalars().all()
    assert ids == ["case-1", "case-2", "case-3", "case-4"]
    # Appends and queued entries interleave into one chain.
    with Session(engine) as s, s.begin():
        log.append(s, record(5))
    with Session(engine) as s, s.begin():
        log.enqueue(s, record(6))
    assert log.chain_pending(engine, batch=1) == 1
    assert log.chain_pending(engine) == 0
    final = verify(engine)
    assert final.ok and (final.entries, final.queued) == (6, 0)


def test_a_queued_entry_survives_a_failed_chaining_pass(engine: sa.Engine) -> None:
    log = AuditLog("intake", KEY, checkpoint_every=100)
    with Session(engine) as s, s.begin():
        log.enqueue(s, record(1))
    with engine.begin() as conn:
        conn.execute(sa.text("drop table audit_chain_head"))
    with pytest.raises(sa.exc.OperationalError):
        log.chain_after_commit(engine)
    create_audit_tables(engine)  # the head is back; the next pass links the entry
    log.chain_after_commit(engine)
    result = verify(engine)
    assert result.ok and (result.entries, result.queued) == (1, 0)


def test_concurrent_queued_writers_are_linked_by_shared_passes(engine: sa.Engine) -> None:
    log = AuditLog("intake", KEY, checkpoint_every=7)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(15):
                with Session(engine) as s, s.begin():
                    log.enqueue(s, record(worker * 100 + i))
                log.chain_after_commit(engine)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = verify(engine)
    assert result.ok, result
    assert (result.entries, result.queued, result.checkpoints) == (60, 0, 8)
