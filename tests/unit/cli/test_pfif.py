"""PFIF 1.4 XML and CSV → intake missing-person reports, with rejected rows and their field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from haven_shared.cli import pfif

FIXTURES = Path(__file__).parent / "fixtures"
INTAKE_OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "intake.json"


def _report_validator() -> Draft202012Validator:
    components = json.loads(INTAKE_OPENAPI.read_text("utf-8"))["components"]
    return Draft202012Validator({"$ref": "#/components/schemas/MissingPersonReportIn",
                                 "components": components})


def test_xml_persons_become_reports_with_names_birth_nationality_and_last_place() -> None:
    result = pfif.parse_file(FIXTURES / "persons.xml")
    yonas, moussa = result.records
    assert yonas.row == 1 and yonas.person_record_id == "tracing.example.org/p.1"
    assert [n["text"] for n in yonas.report["names"]] == [
        "Yonas Tesfaye", "ዮናስ ተስፋዬ", "Yonas Tesfay"]
    assert yonas.report["date_of_birth"] == "2002-03-15"
    assert yonas.report["nationalities"] == ["ER"]
    assert yonas.report["last_seen"] == {"place": "Sabratha", "circumstances": "unknown"}
    assert yonas.report["enquirer"]["contact"] == "selam@example.org"
    assert yonas.report["physical_description"] == "Scar on the left hand."


def test_xml_top_level_notes_attach_to_their_person_and_the_newest_location_wins() -> None:
    moussa = pfif.parse_file(FIXTURES / "persons.xml").records[1]
    assert moussa.display_name == "Moussa Diallo"
    assert moussa.report["last_seen"]["place"] == "Tamanrasset"
    assert moussa.report["estimated_age"] == 32
    assert "date_of_birth" not in moussa.report  # a year alone is not a date of birth


def test_an_xml_person_without_a_way_to_reach_the_enquirer_is_rejected_at_its_row() -> None:
    result = pfif.parse_file(FIXTURES / "persons.xml")
    assert result.rejections == [
        pfif.Rejection(3, "author_email", "no author_email or author_phone")]


def test_csv_rows_are_filed_or_rejected_with_their_line_and_field() -> None:
    result = pfif.parse_file(FIXTURES / "persons.csv")
    assert [(r.row, r.person_record_id) for r in result.records] == [
        (2, "tracing.example.org/c.1"), (4, "tracing.example.org/c.3")]
    assert [(r.row, r.field) for r in result.rejections] == [
        (3, "sex"), (5, "date_of_birth"), (6, "person_record_id"), (7, "age")]


def test_csv_given_and_family_names_and_a_phone_make_a_report() -> None:
    samir = pfif.parse_file(FIXTURES / "persons.csv").records[1]
    assert samir.report["names"] == [{"text": "Samir Haddad"}]
    assert samir.report["enquirer"] == {"name": "Rana Haddad", "relationship": "other",
                                        "contact": "+961 3 000000"}
    assert samir.report["last_seen"]["place"] == "Tripoli, LB"
    assert samir.report["estimated_age"] == 40


@pytest.mark.parametrize("name", ["persons.xml", "persons.csv"])
def test_every_mapped_report_is_valid_for_intakes_api(name: str) -> None:
    validator = _report_validator()
    for record in pfif.parse_file(FIXTURES / name).records:
        validator.validate(record.report)


def test_xml_with_a_doctype_is_refused() -> None:
    text = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
            '<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"/>')
    with pytest.raises(pfif.PfifError, match="DOCTYPE"):
        pfif.parse_xml(text)


def test_xml_of_another_pfif_version_is_refused() -> None:
    with pytest.raises(pfif.PfifError, match="1.4"):
        pfif.parse_xml('<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.2"/>')


def test_csv_without_a_person_record_id_column_is_refused() -> None:
    with pytest.raises(pfif.PfifError, match="person_record_id"):
        pfif.parse_csv("name,sex\nA,female\n")


@pytest.mark.parametrize(("age", "accepted"), [("0", True), ("120", True), ("121", False),
                                                ("35-30", False), ("-3", False)])
def test_ages_must_be_a_number_or_a_range_up_to_120(age: str, accepted: bool) -> None:
    person = {"person_record_id": "x/1", "full_name": "A B", "author_name": "C",
              "author_email": "c@example.org", "home_city": "Tunis", "age": age}
    assert isinstance(pfif.to_record(2, person, []), pfif.PfifRecord) is accepted
