"""`python -m haven_shared.audit` on a SQLite audit log."""

from __future__ import annotations

import json
import subprocess
import sys

import sqlalchemy as sa
from audit_tamper import build_chain, delete
from typer.testing import CliRunner

from haven_shared.audit import create_audit_tables
from haven_shared.audit.cli import app
from haven_shared.db import make_engine

MASTER = "test-master-key-for-audit-chains"


def _chain(tmp_path) -> tuple[str, sa.Engine]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine = make_engine(url)
    create_audit_tables(engine)
    build_chain(engine, 7, every=5)
    return url, engine


def test_verify_prints_an_intact_chain_and_exits_zero(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, _ = _chain(tmp_path)
    r = CliRunner().invoke(app, ["verify", "--database-url", url, "--master-key", MASTER])
    assert r.exit_code == 0, r.output
    assert "intact" in r.output and "7" in r.output


def test_verify_exits_non_zero_and_names_the_broken_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, engine = _chain(tmp_path)
    delete(engine, 4)
    r = CliRunner().invoke(app, ["verify", "--database-url", url, "--json"],
                           env={"HAVEN_MASTER_KEY": MASTER})
    assert r.exit_code == 1
    body = json.loads(r.output)
    assert (body["reason"], body["first_broken_seq"]) == ("deleted", 4)


def test_verify_with_the_wrong_key_fails_on_the_checkpoints(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, _ = _chain(tmp_path)
    r = CliRunner().invoke(app, ["verify", "--database-url", url, "--master-key", "wrong"])
    assert r.exit_code == 1 and "forged_checkpoint" in r.output


def test_a_database_without_audit_tables_is_a_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    r = CliRunner().invoke(app, ["verify", "--database-url", url, "--master-key", MASTER])
    assert r.exit_code == 2


def test_export_then_verify_against_the_exported_checkpoints(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, _ = _chain(tmp_path)
    out = tmp_path / "cp.jsonl"
    r = CliRunner().invoke(app, ["export-checkpoints", "--database-url", url, "--out", str(out)])
    assert r.exit_code == 0 and len(out.read_text().splitlines()) == 1
    r = CliRunner().invoke(app, ["verify", "--database-url", url, "--master-key", MASTER,
                                 "--checkpoints-file", str(out), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["checkpoints"] == 2


def test_the_module_runs_as_a_program(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, engine = _chain(tmp_path)
    cmd = [sys.executable, "-m", "haven_shared.audit", "verify", "--database-url", url]
    env = {"HAVEN_MASTER_KEY": MASTER, "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stderr
    delete(engine, 2)
    broken = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1 and "BROKEN" in broken.stdout
