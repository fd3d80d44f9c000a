"""HSDS 3.0 export and import: valid against the official schema, lossless, all-or-nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from registry_hsds_schema import page_errors, schema_errors
from registry_samples import NOW, beds, organisation, shelter, shelter_details

from registry.adapters.hsds_export import page, service_to_hsds
from registry.adapters.hsds_import import HsdsImportError, import_services
from registry.domain.directory import Eligibility, ProviderService, ServiceKind


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, indent=2).encode()


def test_an_exported_service_validates_against_the_official_hsds_schema() -> None:
    exported = service_to_hsds(shelter())
    assert schema_errors(exported) == []
    assert exported["capacities"][0]["available"] == 4  # HSDS 3.1 draft shape
    assert exported["capacities"][0]["unit"]["name"] == "bed"


def test_an_exported_page_validates_and_a_broken_one_does_not() -> None:
    doc = page([shelter(), shelter()])
    assert page_errors(doc) == []
    doc["contents"][1]["status"] = "open-ish"
    del doc["contents"][0]["organization"]["description"]
    errors = page_errors(doc)
    assert any(e.startswith("contents/1/status") for e in errors), errors
    assert any(e.startswith("contents/0/organization") for e in errors), errors


def test_export_then_import_gives_back_the_same_service() -> None:
    original = shelter()
    [imported] = import_services(_dump(page([original])))
    assert imported.service_id == original.id
    assert imported.organisation == original.organisation
    assert imported.details == original.details
    assert imported.capacity == original.capacity


def test_a_service_without_optional_parts_round_trips_too() -> None:
    bare = ProviderService.register(
        shelter().id, organisation(code=""),
        shelter_details(kind=ServiceKind.LEGAL_AID, eligibility=Eligibility(), languages=(),
                        locations=(), areas=(), opening_hours=()), NOW)
    exported = service_to_hsds(bare)
    assert schema_errors(exported) == []
    [imported] = import_services(_dump([exported]))
    assert imported.details == bare.details and imported.capacity is None


def test_malformed_json_names_the_line() -> None:
    raw = _dump(page([shelter()])).replace(b'"status"', b'"status" "x"', 1)
    with pytest.raises(HsdsImportError) as info:
        import_services(raw)
    [problem] = info.value.problems
    assert problem.line is not None and problem.line > 1
    assert "line" in problem.message


def test_every_bad_record_is_named_with_its_field_and_nothing_is_returned() -> None:
    doc = page([shelter(), shelter(), shelter()])
    doc["contents"][1]["capacities"][0]["available"] = -2
    doc["contents"][2]["attributes"][0]["taxonomy_term"]["code"] = "massage-for-Yohannes"
    with pytest.raises(HsdsImportError) as info:
        import_services(_dump(doc))
    where = {(p.record, p.field) for p in info.value.problems}
    assert (1, "capacities.0.available") in where
    assert (2, "attributes.0.taxonomy_term.code") in where
    assert all("Yohannes" not in p.message for p in info.value.problems)


def test_a_record_without_a_service_kind_is_refused() -> None:
    exported = service_to_hsds(shelter())
    exported["attributes"] = []
    with pytest.raises(HsdsImportError) as info:
        import_services(_dump([exported]))
    assert [(p.record, p.field) for p in info.value.problems] == [(0, "attributes")]


def test_more_available_than_maximum_in_a_file_is_refused() -> None:
    exported = service_to_hsds(ProviderService.register(
        shelter().id, organisation(), shelter_details(), NOW, beds(3, 5)))
    exported["capacities"][0]["available"] = 9
    with pytest.raises(HsdsImportError) as info:
        import_services(_dump([exported]))
    assert info.value.problems[0].field == "capacities.0"


def test_a_service_listed_twice_is_refused() -> None:
    one = service_to_hsds(shelter())
    with pytest.raises(HsdsImportError) as info:
        import_services(_dump([one, one]))
    assert [(p.record, p.field) for p in info.value.problems] == [(1, "id")]


def test_a_file_that_is_not_a_page_or_list_is_refused() -> None:
    with pytest.raises(HsdsImportError) as info:
        import_services(b'{"services": 3}')
    assert info.value.problems[0].field == "contents"


def test_a_problem_names_the_line_its_record_starts_on() -> None:
    doc = page([shelter(), shelter(), shelter()])
    doc["contents"][2]["status"] = "sometimes"
    raw = _dump(doc)
    with pytest.raises(HsdsImportError) as info:
        import_services(raw)
    [problem] = info.value.problems
    assert (problem.record, problem.field) == (2, "status")
    lines = raw.decode().splitlines()
    assert lines[problem.line - 1].strip() == "{"
    third_id = doc["contents"][2]["id"]
    assert lines[problem.line].strip() == f'"id": "{third_id}",'


def test_records_of_a_bare_list_on_one_line_are_on_line_one() -> None:
    one = service_to_hsds(shelter())
    one["name"] = ""
    with pytest.raises(HsdsImportError) as info:
        import_services(json.dumps([service_to_hsds(shelter()), one]).encode())
    assert [(p.record, p.line) for p in info.value.problems] == [(1, 1)]


def test_imported_names_are_nfc_and_control_characters_are_refused() -> None:
    one, two = service_to_hsds(shelter()), service_to_hsds(shelter())
    one["name"] = "Re\u0301fuge"
    [imported] = import_services(_dump([one]))
    assert imported.details.name == "Réfuge"
    two["organization"]["name"] = "Bell\x07"
    with pytest.raises(HsdsImportError) as info:
        import_services(_dump([one, two]))
    assert [(p.record, p.field) for p in info.value.problems] == [(1, "organization.name")]
