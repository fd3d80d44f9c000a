"""`haven import-pfif` end to end: the real command, a real intake over HTTP, real Keycloak."""

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
from intake.bootstrap import bootstrap as intake_app
from intake.config import Settings as IntakeSettings

pytestmark = pytest.mark.infra
FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "cli" / "fixtures"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def intake_url(stack: LocalStack) -> Iterator[str]:
    """Intake served over HTTP on a free port, on a database of its own."""
    settings = IntakeSettings(environment="test", database_url=stack.create_database("intake_cli"),
                              kafka_bootstrap=stack.kafka_bootstrap, keycloak_issuer=stack.issuer,
                              embedded_worker=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(intake_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "intake did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)


def _cases(url: str, token: str) -> list[dict]:  # type: ignore[type-arg]
    r = httpx.get(f"{url}/cases", params={"limit": 100}, timeout=10,
                  headers={"Authorization": f"Bearer {token}", "X-Purpose-Of-Use": "family-tracing"})
    r.raise_for_status()
    return r.json()


def test_import_pfif_files_each_good_person_once_and_lists_the_rejected_row(
        stack: LocalStack, intake_url: str, tmp_path: Path) -> None:
    env = {"HAVEN_RUN_DIR": str(tmp_path), "HAVEN_INTAKE_URL": intake_url,
           "HAVEN_KEYCLOAK_ISSUER": stack.issuer,
           "HAVEN_PASSWORD": stack.secrets["HAVEN_DEMO_PASSWORD"]}
    token = stack.password_token("ana")
    before = {c["id"] for c in _cases(intake_url, token)}

    first = CliRunner().invoke(haven, ["import-pfif", str(FIXTURES / "persons.xml")], env=env)
    assert first.exit_code == 1, first.output  # one row is rejected
    assert "3 records: filed 2, rejected 1" in first.output
    assert "author_email" in first.output
    new = [c for c in _cases(intake_url, token) if c["id"] not in before]
    assert sorted(c["kind"] for c in new) == ["missing-person", "missing-person"]

    again = CliRunner().invoke(haven, ["import-pfif", str(FIXTURES / "persons.xml")], env=env)
    assert "filed 2, rejected 1" in again.output
    # The same Idempotency-Keys: intake returns the first results and opens nothing new.
    assert len(_cases(intake_url, token)) == len(before) + 2


def test_import_pfif_with_a_wrong_password_exits_1_naming_keycloak(
        stack: LocalStack, intake_url: str, tmp_path: Path) -> None:
    env = {"HAVEN_RUN_DIR": str(tmp_path), "HAVEN_INTAKE_URL": intake_url,
           "HAVEN_KEYCLOAK_ISSUER": stack.issuer, "HAVEN_PASSWORD": "wrong"}
    result = CliRunner().invoke(haven, ["import-pfif", str(FIXTURES / "persons.xml")], env=env)
    assert result.exit_code == 1
    assert "Keycloak refused a token for ana" in result.output
