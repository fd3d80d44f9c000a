"""The deploy scripts are idempotent, stop what they start, and fail loudly naming the log."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from haven_shared.testing.stack import DEPLOY, free_port, free_port_block


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [str(DEPLOY / script), *args], env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )


def processes_mentioning(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout  # noqa: S607
    return [line for line in out.splitlines() if text in line and "ps -eo" not in line]


@pytest.fixture
def scratch_env() -> Iterator[dict[str, str]]:
    # Under the repo's .run/: PostgreSQL's owner must be able to reach the directory.
    base = Path(__file__).resolve().parents[3] / ".run"
    base.mkdir(exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix="scripts-", dir=base)
    yield {
        **os.environ,
        "HAVEN_RUN_DIR": str(run_dir),
        "KAFKA_PORT": str(free_port_block(1)),
        "KAFKA_CONTROLLER_PORT": str(free_port_block(1)),
        "POSTGRES_PORT": str(free_port()),
    }
    shutil.rmtree(run_dir, ignore_errors=True)


def test_kafka_start_twice_then_stop_leaves_no_process(scratch_env: dict[str, str]) -> None:
    first = run("kafka/kafka.sh", "start", env=scratch_env)
    assert first.returncode == 0, first.stderr
    second = run("kafka/kafka.sh", "start", env=scratch_env)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    socket.create_connection(("127.0.0.1", int(scratch_env["KAFKA_PORT"])), timeout=5).close()
    assert run("kafka/kafka.sh", "stop", env=scratch_env).returncode == 0
    assert processes_mentioning(scratch_env["HAVEN_RUN_DIR"]) == []
    assert run("kafka/kafka.sh", "stop", env=scratch_env).returncode == 0


def test_postgres_start_twice_then_stop_leaves_no_process(scratch_env: dict[str, str]) -> None:
    assert run("postgres/postgres.sh", "start", env=scratch_env).returncode == 0
    second = run("postgres/postgres.sh", "start", env=scratch_env)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    assert run("postgres/postgres.sh", "stop", env=scratch_env).returncode == 0
    assert processes_mentioning(scratch_env["HAVEN_RUN_DIR"]) == []


def test_keycloak_start_on_a_running_stack_is_a_no_op(stack) -> None:  # type: ignore[no-untyped-def]
    result = run("keycloak/keycloak.sh", "start", env=stack.env())
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stderr


def test_a_server_that_cannot_start_is_named_with_its_log(scratch_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(scratch_env["KAFKA_PORT"])))
        taken.listen()
        result = run("kafka/kafka.sh", "start", env={**scratch_env, "KAFKA_START_TIMEOUT": "60"})
    assert result.returncode != 0
    log = f"{scratch_env['HAVEN_RUN_DIR']}/kafka/node1/kafka.log"
    assert "kafka node 1" in result.stderr and log in result.stderr
    run("kafka/kafka.sh", "stop", env=scratch_env)
    assert processes_mentioning(scratch_env["HAVEN_RUN_DIR"]) == []
