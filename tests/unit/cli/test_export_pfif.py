"""`haven export-pfif`: intake's missing-person reports → PFIF 1.4 that `import-pfif` reads back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from typer.testing import CliRunner

from haven_shared.cli import app, export_pfif
from haven_shared.cli.pfif import PFIF_NS, parse_file, parse_xml

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NS = {"pfif": PFIF_NS}


def _reports() -> list[dict[str, Any]]:
    """The fixture's people as intake returns their reports (ids added, defaults filled)."""
    out = []
    for i, record in enumerate(parse_file(FIXTURES / "persons.xml").records):
        out.append(
            {
                **record.report,
                "id": f"00000000-0000-4000-8000-00000000000{i}",
                "case_id": f"10000000-0000-4000-8000-00000000000{i}",
                "languages": [],
                "sharing_scope": ["tracing-service"],
            }
        )
    return out


def _fake_intake(cases: int, seen: list[httpx.Request]) -> httpx.Client:
    """An intake with `cases` cases; each even one holds a missing-person report (odd ones a
    found person), listed two cases a page."""
    reports = {
        f"case-{i}": {**_reports()[0], "id": f"report-{i}", "case_id": f"case-{i}"}
        for i in range(0, cases, 2)
    }

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        parts = request.url.path.strip("/").split("/")
        if parts == ["cases"]:
            offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
            return httpx.Response(
                200, json=[{"id": f"case-{i}"} for i in range(cases)][offset : offset + limit]
            )
        if len(parts) == 2:
            case_id = parts[1]
            refs = (
                [{"id": reports[case_id]["id"], "kind": "missing-person", "is_minor": False}]
                if case_id in reports
                else [{"id": "found-1", "kind": "found-person", "is_minor": False}]
            )
            return httpx.Response(200, json={"id": case_id, "records": refs})
        if parts[2] == "missing-person-reports":
            return httpx.Response(200, json=reports[parts[1]])
        return httpx.Response(404, json={"title": "Not found"})

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="http://intake")


@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_an_export_imports_again_into_the_same_reports(fmt: str, tmp_path: Path) -> None:
    reports = _reports()
    path = tmp_path / f"export.{fmt}"
    path.write_text(export_pfif.export(reports, fmt, "haven.example.org", NOW))  # type: ignore[arg-type]
    parsed = parse_file(path)
    assert parsed.rejections == []
    assert [r.person_record_id for r in parsed.records] == [
        f"haven.example.org/{r['id']}" for r in reports
    ]
    for record, original in zip(parsed.records, reports, strict=True):
        expected = {
            k: v
            for k, v in original.items()
            if k not in ("id", "case_id", "languages", "sharing_scope")
        }
        assert record.report == expected


def test_xml_is_pfif_1_4_with_fields_in_schema_order_and_the_place_in_a_note() -> None:
    text = export_pfif.export(_reports(), "xml", "haven.example.org", NOW)
    root = ElementTree.fromstring(text)
    assert root.tag == f"{{{PFIF_NS}}}pfif"
    yonas = root.findall("pfif:person", NS)[0]
    tags = [child.tag.split("}")[1] for child in yonas]
    assert tags == [
        "person_record_id",
        "entry_date",
        "author_name",
        "author_email",
        "source_name",
        "source_date",
        "full_name",
        "alternate_names",
        "description",
        "sex",
        "date_of_birth",
        "home_country",
        "note",
    ]
    assert yonas.findtext("pfif:entry_date", namespaces=NS) == "2026-11-23T12:00:00Z"
    note = yonas.find("pfif:note", NS)
    assert note is not None
    assert note.findtext("pfif:person_record_id", namespaces=NS) == yonas.findtext(
        "pfif:person_record_id", namespaces=NS
    )
    assert note.findtext("pfif:status", namespaces=NS) == "information_sought"
    assert note.findtext("pfif:last_known_location", namespaces=NS) == "Sabratha"


def test_a_phone_contact_is_the_author_phone_and_an_unknown_sex_is_left_out() -> None:
    report = {**_reports()[1], "sex": "unknown"}
    person, note = export_pfif.to_person(report, "haven.example.org", NOW)
    assert person["author_phone"] == "+221 77 000 00 00"
    assert "author_email" not in person and "sex" not in person
    assert person["age"] == "32"
    assert note["author_phone"] == person["author_phone"]


def test_only_missing_person_reports_are_read_page_by_page_each_with_the_purpose() -> None:
    seen: list[httpx.Request] = []
    export_pfif.PAGE, saved = 2, export_pfif.PAGE
    try:
        reports = list(export_pfif.visible_reports(_fake_intake(5, seen), "family-tracing"))
    finally:
        export_pfif.PAGE = saved
    assert [r["id"] for r in reports] == ["report-0", "report-2", "report-4"]
    assert [r.url.params["offset"] for r in seen if r.url.path == "/cases"] == ["0", "2", "4"]
    assert all(r.headers["X-Purpose-Of-Use"] == "family-tracing" for r in seen)
    assert not any("found-person" in r.url.path for r in seen)


def test_a_refused_read_stops_the_export_naming_what_failed() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cases":
            return httpx.Response(200, json=[{"id": "case-0"}])
        return httpx.Response(
            400, json={"title": "Purpose of use required", "detail": "X-Purpose-Of-Use is needed"}
        )

    client = httpx.Client(transport=httpx.MockTransport(handle), base_url="http://intake")
    with pytest.raises(export_pfif.CliError, match="reading a case: HTTP 400"):
        list(export_pfif.visible_reports(client, "family-tracing"))


def test_the_command_writes_csv_to_a_file_and_reports_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[httpx.Request] = []
    monkeypatch.setattr(export_pfif, "fetch_token", lambda *_a, **_k: "token")
    monkeypatch.setattr(export_pfif, "service_client", lambda *_a, **_k: _fake_intake(3, seen))
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app,
        ["export-pfif", "--format", "csv", "--out", str(out)],
        env={"HAVEN_RUN_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    assert "exported 2 missing-person reports from 3 cases" in result.output
    assert [r.person_record_id for r in parse_file(out).records] == [
        "haven.intake/report-0",
        "haven.intake/report-2",
    ]


def test_the_command_writes_xml_to_standard_output_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_pfif, "fetch_token", lambda *_a, **_k: "token")
    monkeypatch.setattr(export_pfif, "service_client", lambda *_a, **_k: _fake_intake(1, []))
    result = CliRunner().invoke(app, ["export-pfif"], env={"HAVEN_RUN_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    xml = result.stdout[result.stdout.index("<?xml") : result.stdout.rindex("</pfif:pfif>") + 12]
    assert [r.person_record_id for r in parse_xml(xml).records] == ["haven.intake/report-0"]


def test_an_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["export-pfif", "--format", "json"], env={"HAVEN_RUN_DIR": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "xml or csv" in result.output


def test_the_fixture_reports_are_valid_intake_reports() -> None:
    # The round trip above starts from what intake would hand out: keep the fixture honest.
    schema = json.loads(
        (Path(__file__).resolve().parents[3] / "docs" / "openapi" / "intake.json").read_text(
            "utf-8"
        )
    )["components"]["schemas"]
    allowed = set(schema["MissingPersonReportPublic"]["properties"])
    for report in _reports():
        assert set(report) <= allowed
