"""The periodic checkpoint job on SQLite: it signs the head only when the chain moved, its
checkpoints verify and go to the file kept apart, it runs in the background, and a truncation of
entries written after the last count-based checkpoint is caught thanks to it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from audit_tamper import KEY, build_chain, record
from sqlalchemy.orm import Session

from haven_shared.audit import CheckpointJob, create_audit_tables, load_checkpoints, verify_chain
from haven_shared.audit.model import audit_entry_table, audit_head_table
from haven_shared.db import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    create_audit_tables(engine)
    yield engine
    engine.dispose()


def test_the_job_signs_the_head_only_when_entries_were_appended(engine: sa.Engine,
                                                                 tmp_path: Path) -> None:
    log = build_chain(engine, 3, every=100)
    job = CheckpointJob(engine, log, 60, export_to=tmp_path / "checkpoints.jsonl")
    assert job.tick() is not None
    assert job.tick() is None  # nothing new
    with Session(engine) as s, s.begin():
        log.append(s, record(4))
        log.append(s, record(5))
    signed = job.tick()
    assert signed is not None and signed.seq == 5
    with Session(engine) as s:
        assert [c.seq for c in load_checkpoints(s)] == [3, 5]
        assert verify_chain(s, KEY).ok
    exported = [json.loads(line) for line in
                (tmp_path / "checkpoints.jsonl").read_text().splitlines()]
    assert [c["seq"] for c in exported] == [3, 5]


def test_an_empty_chain_gets_no_checkpoint(engine: sa.Engine) -> None:
    log = build_chain(engine, 0)
    assert CheckpointJob(engine, log, 60).tick() is None


def test_the_job_runs_in_the_background_until_stopped(engine: sa.Engine) -> None:
    log = build_chain(engine, 2, every=100)
    job = CheckpointJob(engine, log, 0.05).start()
    try:
        deadline = time.monotonic() + 10
        while True:
            with Session(engine) as s:
                if load_checkpoints(s):
                    break
            assert time.monotonic() < deadline, "no checkpoint was signed"
            time.sleep(0.05)
    finally:
        job.stop()
    assert job._thread is not None and not job._thread.is_alive()


def test_a_truncation_after_a_periodic_checkpoint_is_detected(engine: sa.Engine) -> None:
    # Count-based checkpoints every 100 entries would leave these 7 unprotected.
    log = build_chain(engine, 7, every=100)
    CheckpointJob(engine, log, 60).tick()
    with engine.begin() as conn:
        conn.execute(audit_entry_table.delete().where(audit_entry_table.c.seq > 4))
        conn.execute(audit_head_table.update().values(seq=4))
    with Session(engine) as s:
        result = verify_chain(s, KEY)
    assert not result.ok


def test_the_interval_must_be_positive(engine: sa.Engine) -> None:
    with pytest.raises(ValueError):
        CheckpointJob(engine, build_chain(engine, 0), 0)
