"""The `haven` CLI without services: settings, filing through a fake intake, dry runs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from typer.testing import CliRunner

from haven_shared.cli import app
from haven_shared.cli.config import CliSettings
from haven_shared.cli.importing import import_records
from haven_shared.cli.pfif import parse_file

FIXTURES = Path(__file__).parent / "fixtures"


def test_settings_come_from_secrets_env_and_the_environment_overrides_them(
        tmp_path: Path) -> None:
    (tmp_path / "secrets.env").write_text(
        "# generated\nHAVEN_DEMO_PASSWORD='from-file'\nexport HAVEN_MASTER_KEY=mk\n")
    settings = CliSettings.load({"HAVEN_RUN_DIR": str(tmp_path),
                                 "HAVEN_INTAKE_URL": "http://intake:8000"})
    assert (settings.password, settings.master_key) == ("from-file", "mk")
    assert settings.service_urls["intake"] == "http://intake:8000"
    assert settings.service_urls["registry"] == "http://127.0.0.1:8003"
    assert CliSettings.load({"HAVEN_RUN_DIR": str(tmp_path),
                             "HAVEN_PASSWORD": "given"}).password == "given"


def _fake_intake(refuse_report_of: str) -> httpx.Client:
    """An intake that opens cases and refuses the report naming `refuse_report_of`."""
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("Idempotency-Key", ""))
        if request.url.path == "/cases":
            return httpx.Response(201, json={"id": f"case-{len(calls)}"})
        body = json.loads(request.content)
        if body["names"][0]["text"] == refuse_report_of:
            return httpx.Response(422, json={"title": "Invalid", "errors": [
                {"field": "body.last_seen.place", "rule": "string_too_long"}]})
        return httpx.Response(201, json={"id": "report"})

    client = httpx.Client(transport=httpx.MockTransport(handle), base_url="http://intake")
    client.calls = calls  # type: ignore[attr-defined]
    return client


def test_a_report_intake_refuses_is_a_rejection_naming_the_field_it_gave() -> None:
    records = parse_file(FIXTURES / "persons.xml").records
    advanced: list[int] = []
    summary = import_records(_fake_intake("Moussa Diallo"), records,
                             lambda: advanced.append(1))
    assert [record.person_record_id for record, _ in summary.filed] == [
        "tracing.example.org/p.1"]
    assert [(r.row, r.field) for r in summary.rejections] == [(2, "last_seen.place")]
    assert len(advanced) == 2


def test_each_record_is_filed_with_stable_idempotency_keys() -> None:
    records = parse_file(FIXTURES / "persons.xml").records
    first, second = _fake_intake(""), _fake_intake("")
    import_records(first, records)
    import_records(second, records)
    assert first.calls == second.calls  # type: ignore[attr-defined]
    assert len(set(first.calls)) == 4  # type: ignore[attr-defined]


def test_a_dry_run_prints_the_rejected_rows_and_exits_1() -> None:
    result = CliRunner().invoke(app, ["import-pfif", "--dry-run",
                                      str(FIXTURES / "persons.csv")])
    assert result.exit_code == 1
    assert "6 records: would file 2, rejected 4" in result.output
    assert "date_of_birth" in result.output and "person_record_id" in result.output


def test_a_file_that_is_not_pfif_exits_1_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "x.xml"
    bad.write_text('<other xmlns="urn:x"/>')
    result = CliRunner().invoke(app, ["import-pfif", "--dry-run", str(bad)])
    assert result.exit_code == 1
