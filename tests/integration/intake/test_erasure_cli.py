"""`haven erase` end to end: the real command, intake over HTTP, real Keycloak tokens."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from haven_shared.cli import app as haven
from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap
from intake.config import Settings

# The suite's session intake (`client`) migrates the database the suite's audit figures read.
pytestmark = [pytest.mark.infra, pytest.mark.usefixtures("client")]
READ = {"X-Purpose-Of-Use": "family-tracing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def intake_url(stack: LocalStack) -> Iterator[str]:
    """Intake served over HTTP on a free port, on a database of its own."""
    db = stack.create_database("intake_erase_cli")
    settings = Settings(
        environment="test",
        database_url=db,
        kafka_bootstrap=stack.kafka_bootstrap,
        keycloak_issuer=stack.issuer,
        embedded_worker=False,
    )
    app = bootstrap(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "intake did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    app.state.engine.dispose()
    stack.drop_database(db)


@pytest.fixture
def env(stack: LocalStack, intake_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "HAVEN_RUN_DIR": str(tmp_path),
        "HAVEN_INTAKE_URL": intake_url,
        "HAVEN_KEYCLOAK_ISSUER": stack.issuer,
        "HAVEN_PASSWORD": stack.secrets["HAVEN_DEMO_PASSWORD"],
    }


def _case(stack: LocalStack, url: str) -> tuple[str, dict[str, str]]:
    ana = {"Authorization": f"Bearer {stack.password_token('ana')}"}
    r = httpx.post(
        f"{url}/cases",
        json={"kind": "survivor-support", "person": {"display_name": "Erase Me"}},
        headers=ana,
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), ana


def test_haven_erase_destroys_the_case_subjects_key(
    stack: LocalStack, intake_url: str, env: dict[str, str]
) -> None:
    case_id, ana = _case(stack, intake_url)
    result = CliRunner().invoke(haven, ["erase", case_id, "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "Erased" in result.output and case_id[:8] in result.output
    assert "Erase Me" not in result.output
    got = httpx.get(f"{intake_url}/cases/{case_id}", headers=ana | READ, timeout=10)
    assert got.status_code == 410


def test_haven_erase_asks_first_and_a_no_keeps_the_subject(
    stack: LocalStack, intake_url: str, env: dict[str, str]
) -> None:
    case_id, ana = _case(stack, intake_url)
    result = CliRunner().invoke(haven, ["erase", case_id], env=env, input="n\n")
    assert result.exit_code == 1
    got = httpx.get(f"{intake_url}/cases/{case_id}", headers=ana | READ, timeout=10)
    assert got.status_code == 200


def test_haven_erase_as_a_caseworker_or_of_a_non_id_exits_1(
    stack: LocalStack, intake_url: str, env: dict[str, str]
) -> None:
    case_id, ana = _case(stack, intake_url)
    refused = CliRunner().invoke(haven, ["erase", case_id, "--yes", "--user", "ana"], env=env)
    assert refused.exit_code == 1 and "HTTP 403" in refused.output, refused.output
    bad = CliRunner().invoke(haven, ["erase", "Erase Me", "--yes"], env=env)
    assert bad.exit_code == 1 and "UUID" in bad.output, bad.output
    got = httpx.get(f"{intake_url}/cases/{case_id}", headers=ana | READ, timeout=10)
    assert got.status_code == 200
