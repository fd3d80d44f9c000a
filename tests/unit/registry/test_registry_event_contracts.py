"""What the registry emits matches the checked-in JSON Schemas of its events (the contract)."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import pytest
from jsonschema import Draft202012Validator
from registry_samples import NOW, shelter

from haven_shared.events.model import Event
from registry.domain.match_review import Evidence, MatchCandidate, Reviewer
from registry.service_layer.events import translate

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas"
FIONA = Reviewer("fiona", "forensic-institute", frozenset({"forensic_reviewer",
                                                           "deceased_records"}))
FELIX = Reviewer("felix", "forensic-institute", frozenset({"forensic_reviewer",
                                                           "deceased_records"}))


def assert_valid(event: Event) -> None:
    path = SCHEMAS / f"{event.event_type}.schema.json"
    schema = json.loads(path.read_text("utf-8"))
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(event.to_payload())]
    assert errors == [], (event.event_type, errors)


def _directory_events() -> list[Event]:
    service = shelter()
    service.update_capacity(1, NOW)
    service.withdraw("The shelter closed.", NOW)
    return [e for e in map(translate, service.events) if e is not None]


def _match_events() -> list[Event]:
    c = MatchCandidate.propose(uuid4(), "case-1/remains-1", "remains", "case-2/missing-1",
                               "missing", 0.93, 9.5, (Evidence("name", 2, "similar", 6.2),),
                               NOW)
    c.confirm(FIONA, NOW)
    c.confirm(FELIX, NOW)
    return [e for e in map(translate, c.events) if e is not None]


def test_directory_changes_become_the_three_provider_events_keyed_by_service() -> None:
    events = _directory_events()
    assert [e.event_type for e in events] == [
        "haven.registry.provider.upserted.v1",
        "haven.registry.provider.capacity.changed.v1",
        "haven.registry.provider.withdrawn.v1",
    ]
    assert len({e.aggregate_id() for e in events}) == 1
    assert [e.provider.version for e in events] == [1, 2, 3]  # type: ignore[attr-defined]


@pytest.mark.parametrize("event", _directory_events() + _match_events(),
                         ids=lambda e: e.event_type)
def test_every_emitted_body_validates_against_its_checked_in_schema(event: Event) -> None:
    assert_valid(event)


def test_an_identification_names_both_reviewers_organisations() -> None:
    proposed, confirmed = _match_events()
    assert proposed.event_type == "haven.registry.match.proposed.v1"
    assert confirmed.event_type == "haven.registry.identification.confirmed.v1"
    assert confirmed.reviewer_orgs == ["forensic-institute"] * 2  # type: ignore[attr-defined]
