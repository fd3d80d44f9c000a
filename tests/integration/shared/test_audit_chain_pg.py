"""The audit chain on the real PostgreSQL: concurrent appenders serialise on the chain head
into one unbroken chain, rollbacks leave no gap, and every kind of tampering is reported at
the right entry. Each test gets a database of its own."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from audit_tamper import (
    KEY,
    TAMPER_CASES,
    build_chain,
    fresh_audit_database,
    record,
    rehash_from,
)
from sqlalchemy.orm import Session

from haven_shared.audit import AuditLog, load_checkpoints, verify_chain
from haven_shared.audit.export import export_checkpoints
from haven_shared.audit.model import audit_checkpoint_table
from haven_shared.db import make_engine
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra


@pytest.fixture
def audit_db(stack: LocalStack) -> Iterator[str]:
    """The URL of a fresh database with the audit tables (dropped afterwards)."""
    with fresh_audit_database(stack.database_url("intake")) as url:
        yield url


@pytest.fixture
def pg(audit_db: str) -> Iterator[sa.Engine]:
    engine = make_engine(audit_db)
    yield engine
    engine.dispose()


def verify(engine: sa.Engine, extra=()):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return verify_chain(s, KEY, extra)


def test_concurrent_appenders_make_one_unbroken_chain(pg: sa.Engine) -> None:
    log = AuditLog("intake", KEY, checkpoint_every=10)
    barrier = threading.Barrier(7)
    errors: list[BaseException] = []
    on_demand: list[int] = []

    def append(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(20):
                with Session(pg) as s, s.begin():
                    log.append(s, record(worker * 1000 + i))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    def checkpoint() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                with Session(pg) as s, s.begin():
                    cp = log.checkpoint(s)
                if cp is not None:
                    on_demand.append(cp.seq)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(6)]
    threads.append(threading.Thread(target=checkpoint))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = verify(pg)
    assert result.ok, result
    assert (result.entries, result.last_seq) == (120, 120)
    assert result.checkpoints == 12 + len(on_demand)
    with Session(pg) as s:
        object_ids = s.execute(sa.text("select object_id from audit_entry")).scalars().all()
    assert len(set(object_ids)) == 120  # every append landed exactly once


def test_an_entry_commits_and_rolls_back_with_the_action(pg: sa.Engine) -> None:
    log = build_chain(pg, 3)
    with Session(pg) as s:
        s.begin()
        s.execute(sa.text("create table if not exists audited_action (id int primary key)"))
        s.execute(sa.text("insert into audited_action values (1)"))
        log.append(s, record(4))
        s.rollback()
    with Session(pg) as s:
        assert s.execute(sa.text("select count(*) from audit_entry")).scalar_one() == 3
    with Session(pg) as s, s.begin():
        assert log.append(s, record(5)).seq == 4
    assert verify(pg).ok


@pytest.mark.parametrize(("name", "tamper", "reason", "first_broken"), TAMPER_CASES,
                         ids=[c[0] for c in TAMPER_CASES])
def test_tampering_is_reported_at_the_first_broken_entry(  # type: ignore[no-untyped-def]
    pg: sa.Engine, name, tamper, reason, first_broken
) -> None:
    build_chain(pg, 20, every=5)
    assert verify(pg).ok
    tamper(pg)
    result = verify(pg)
    assert not result.ok
    assert (result.reason, result.first_broken_seq) == (reason, first_broken), result.detail


def test_exported_checkpoints_catch_a_rehash_after_the_table_was_emptied(
    pg: sa.Engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    build_chain(pg, 20, every=5)
    path = tmp_path / "checkpoints.jsonl"
    with Session(pg) as s:
        assert export_checkpoints(s, path) == 4
        assert export_checkpoints(s, path) == 0  # appends only what is new
    rehash_from(pg, 3)
    with pg.begin() as conn:
        conn.execute(audit_checkpoint_table.delete())
    assert verify(pg).ok  # the database alone no longer shows it
    from haven_shared.audit.export import read_checkpoint_file

    result = verify(pg, read_checkpoint_file(path))
    assert (result.reason, result.first_broken_seq, result.detected_at_seq) == ("rehashed", 1, 5)
    with Session(pg) as s:
        assert load_checkpoints(s) == []


def test_the_cli_verifies_an_intact_chain_and_fails_on_a_broken_one(
    pg: sa.Engine, audit_db: str
) -> None:
    build_chain(pg, 6, every=5)
    cmd = [sys.executable, "-m", "haven_shared.audit", "verify", "--database-url", audit_db]
    env = {"HAVEN_MASTER_KEY": "test-master-key-for-audit-chains", "PATH": "/usr/bin:/bin",
           "COLUMNS": "200"}
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    rehash_from(pg, 2)
    broken = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert broken.returncode == 1, broken.stderr
    assert '"reason": "rehashed"' in broken.stdout and '"first_broken_seq": 1' in broken.stdout


def test_concurrent_queued_writers_make_one_unbroken_chain(pg: sa.Engine) -> None:
    """Entries queued in concurrent transactions and linked by group-committed passes (two
    logs: two processes' passes meet only on the head row)."""
    logs = [AuditLog("intake", KEY, checkpoint_every=10) for _ in range(2)]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        log = logs[worker % 2]
        try:
            barrier.wait()
            for i in range(20):
                with Session(pg) as s, s.begin():
                    log.enqueue(s, record(worker * 1000 + i))
                log.chain_after_commit(pg)
                if i % 7 == 0:  # direct appends take the same head
                    with Session(pg) as s, s.begin():
                        log.append(s, record(worker * 1000 + 500 + i))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = verify(pg)
    assert result.ok, result
    assert (result.entries, result.queued) == (6 * 23, 0)
    with Session(pg) as s:
        object_ids = s.execute(sa.text("select object_id from audit_entry")).scalars().all()
    assert len(set(object_ids)) == 6 * 23


def test_a_pass_that_read_the_queue_before_waiting_on_the_head_links_nothing_twice(
    pg: sa.Engine,
) -> None:
    """Another process's pass links the queue while this one waits on the head with a queue
    read from before the wait: the stale read is noticed and nothing is linked twice."""
    import time

    from haven_shared.audit.chain import _advance_head, _queued
    from haven_shared.audit.model import audit_entry_table, audit_head_table, audit_pending_table

    log = AuditLog("intake", KEY, checkpoint_every=100)
    with Session(pg) as s, s.begin():
        for i in range(3):
            log.enqueue(s, record(i))
    results: list[int] = []
    with Session(pg) as other:
        seq, prev = _advance_head(other, step=0)  # the other process holds the head
        waiting = threading.Thread(target=lambda: results.append(log.chain_pending(pg)))
        waiting.start()
        time.sleep(0.5)  # its statement now waits on the head, its queue read already taken
        rows = _queued(other, 100)
        values, seq, prev = log._link(rows, seq, prev)
        other.execute(audit_entry_table.insert(), values)
        other.execute(audit_pending_table.delete())
        other.execute(audit_head_table.update().values(seq=seq, entry_hash=prev))
        other.commit()
    waiting.join(10)
    assert results == [0]
    result = verify(pg)
    assert result.ok, result
    assert (result.entries, result.queued) == (3, 0)
