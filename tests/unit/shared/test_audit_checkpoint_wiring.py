"""Intake, referral and registry run the periodic checkpoint job while they run (SQLite, no
broker): an entry appended while the service is up is covered by a signed checkpoint within the
interval, and the job stops with the service."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from haven_shared.audit import AuditRecord, load_checkpoints


def _wait_for_checkpoint(engine: sa.Engine, seq: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as s:
            if any(c.seq >= seq for c in load_checkpoints(s)):
                return
        assert time.monotonic() < deadline, "no periodic checkpoint was signed"
        time.sleep(0.05)


def _record() -> AuditRecord:
    return AuditRecord(actor="sub-test", roles=("caseworker",), organisation="ngo-a",
                       action="case.read", object_type="case", object_id=str(uuid.uuid4()),
                       purpose="check")


def test_referral_signs_its_chain_head_periodically(tmp_path: Path) -> None:
    from haven_shared.db import make_engine
    from referral.adapters.schema import create_schema
    from referral.bootstrap import make_deps
    from referral.config import Settings
    from referral.worker import ReferralWorker

    engine = make_engine(f"sqlite:///{tmp_path / 'referral.db'}")
    create_schema(engine)
    settings = Settings(environment="test", database_url=str(engine.url),
                        relay_enabled=False, provider_consumer_enabled=False,
                        partner_responses_enabled=False, intake_consumer_enabled=False,
                        escalation_interval_seconds=0, audit_checkpoint_interval_seconds=0.05,
                        audit_checkpoints_file=str(tmp_path / "checkpoints.jsonl"))
    deps = make_deps(settings, engine)
    assert deps.audit is not None
    worker = ReferralWorker(settings, engine, deps, lambda: datetime.now(UTC))
    worker.start()
    try:
        entry = deps.audit.append_committed(engine, _record())
        _wait_for_checkpoint(engine, entry.seq)
    finally:
        worker.stop()
    assert (tmp_path / "checkpoints.jsonl").read_text().count("\n") >= 1
    engine.dispose()


def test_intake_signs_its_chain_head_periodically(tmp_path: Path) -> None:
    from intake.bootstrap import bootstrap
    from intake.config import Settings

    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'intake.db'}",
                        embedded_worker=False, audit_checkpoint_interval_seconds=0.05)
    app = bootstrap(settings)
    with TestClient(app):
        entry = app.state.audit.append_committed(app.state.engine, _record())
        _wait_for_checkpoint(app.state.engine, entry.seq)


def test_registry_signs_its_chain_head_periodically(tmp_path: Path) -> None:
    from registry.bootstrap import bootstrap
    from registry.config import Settings

    settings = Settings(environment="test",
                        database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                        relay_enabled=False, index_consumer_enabled=False,
                        audit_checkpoint_interval_seconds=0.05,
                        audit_checkpoints_file=str(tmp_path / "checkpoints.jsonl"))
    app = bootstrap(settings)
    with TestClient(app):
        entry = app.state.audit.append_committed(app.state.engine, _record())
        _wait_for_checkpoint(app.state.engine, entry.seq)
    assert (tmp_path / "checkpoints.jsonl").read_text().count("\n") >= 1
