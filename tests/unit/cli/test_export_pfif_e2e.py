"""`haven export-pfif` end to end: real intake over HTTP, real Keycloak, import then export."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from haven_shared.cli import app as haven
from haven_shared.cli.pfif import parse_file
from haven_shared.testing.stack import LocalStack, free_port
from intake.bootstrap import bootstrap as intake_app
from intake.config import Settings as IntakeSettings

pytestmark = pytest.mark.infra
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def intake_url(stack: LocalStack) -> Iterator[str]:
    """Intake served over HTTP on a free port, on a database of its own."""
    database = stack.create_database("intake_export")
    settings = IntakeSettings(
        environment="test",
        database_url=database,
        kafka_bootstrap=stack.kafka_bootstrap,
        keycloak_issuer=stack.issuer,
        embedded_worker=False,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(intake_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "intake did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    stack.drop_database(database)


def _env(stack: LocalStack, intake_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "HAVEN_RUN_DIR": str(tmp_path),
        "HAVEN_INTAKE_URL": intake_url,
        "HAVEN_KEYCLOAK_ISSUER": stack.issuer,
        "HAVEN_PASSWORD": stack.secrets["HAVEN_DEMO_PASSWORD"],
    }


@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_imported_people_export_as_pfif_that_reads_back_into_the_same_reports(
    stack: LocalStack, intake_url: str, tmp_path: Path, fmt: str
) -> None:
    env = _env(stack, intake_url, tmp_path)
    imported = CliRunner().invoke(haven, ["import-pfif", str(FIXTURES / "persons.xml")], env=env)
    assert "filed 2, rejected 1" in imported.output, imported.output
    out = tmp_path / f"export.{fmt}"
    exported = CliRunner().invoke(
        haven, ["export-pfif", "--format", fmt, "--out", str(out)], env=env
    )
    assert exported.exit_code == 0, exported.output
    assert "exported 2 missing-person reports from 2 cases" in exported.output
    originals = {r.display_name: r.report for r in parse_file(FIXTURES / "persons.xml").records}
    back = parse_file(out)
    assert back.rejections == []
    assert {r.display_name: r.report for r in back.records} == originals
    assert all(r.person_record_id.startswith("haven.intake/") for r in back.records)


def test_a_caseworker_of_another_organisation_exports_nothing(
    stack: LocalStack, intake_url: str, tmp_path: Path
) -> None:
    env = _env(stack, intake_url, tmp_path)
    CliRunner().invoke(haven, ["import-pfif", str(FIXTURES / "persons.xml")], env=env)
    out = tmp_path / "carla.xml"
    result = CliRunner().invoke(
        haven, ["export-pfif", "--user", "carla", "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "exported 0 missing-person reports from 0 cases" in result.output
    assert parse_file(out).records == []
