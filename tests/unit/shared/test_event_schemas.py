"""Checked-in JSON Schemas and golden examples: current, and consistent with each other."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from haven_shared.events import CATALOGUE
from haven_shared.events import schemas as event_schemas

TYPES = [m.event_type for m in CATALOGUE]


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((event_schemas.SCHEMA_DIR / name).read_text("utf-8"))


def test_the_checked_in_schemas_and_examples_match_the_catalogue() -> None:
    # Fix with: uv run python -m haven_shared.events.schemas
    assert event_schemas.stale() == []


@pytest.mark.parametrize("event_type", TYPES)
def test_each_golden_example_validates_against_its_json_schema(event_type: str) -> None:
    schema = _load(f"{event_type}.schema.json")
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(_load(f"{event_type}.example.json"))


@pytest.mark.parametrize("event_type", TYPES)
def test_each_golden_example_decodes_into_its_model(event_type: str) -> None:
    model = CATALOGUE.model_for(event_type)
    assert model.model_validate(_load(f"{event_type}.example.json")) == model.example()


def test_a_case_opened_body_with_personal_data_in_clear_fails_its_schema() -> None:
    schema = _load("haven.intake.case.opened.v1.schema.json")
    body = _load("haven.intake.case.opened.v1.example.json")
    body["subject"] = {"given_name": "Amina", "family_name": "Yusuf"}
    with pytest.raises(ValidationError):
        Draft202012Validator(schema).validate(body)


def test_a_stale_schema_file_is_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    event_schemas.write(tmp_path)
    (tmp_path / "haven.test.probe.recorded.v2.schema.json").write_text("{}\n")
    (tmp_path / "haven.gone.v1.schema.json").write_text("{}\n")
    assert event_schemas.stale(tmp_path) == [
        "haven.gone.v1.schema.json", "haven.test.probe.recorded.v2.schema.json"]


def test_the_asyncapi_document_lists_every_event_type_on_its_topic() -> None:
    doc = _load("asyncapi.json")
    assert doc["asyncapi"] == "3.0.0"
    for model in CATALOGUE:
        ref = doc["channels"][model.topic]["messages"][model.event_type]["$ref"]
        message = doc["components"]["messages"][ref.rsplit("/", 1)[1]]
        assert message["payload"]["$ref"] == f"./{model.event_type}.schema.json"
