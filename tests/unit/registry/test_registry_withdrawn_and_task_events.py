"""A candidate closed without a decision, and family-notification tasks, become catalogue events
that validate against their checked-in schemas and keep the candidate's key."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

from jsonschema import Draft202012Validator
from registry_samples import NOW

from haven_shared.events.model import Event
from registry.domain.family_notification import (
    FamilyNotificationTask,
    NotificationKind,
    NotificationState,
)
from registry.domain.match_review import Evidence, MatchCandidate, MatchStatus, Reviewer
from registry.service_layer.events import translate

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas"
TOM = Reviewer("tom", "tracing-service", frozenset({"tracing_officer"}))


def _valid(event: Event) -> None:
    schema = json.loads((SCHEMAS / f"{event.event_type}.schema.json").read_text("utf-8"))
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(event.to_payload())]
    assert errors == [], errors


def _candidate() -> MatchCandidate:
    c = MatchCandidate.propose(
        uuid4(),
        "intake/found-person/1",
        "found",
        "intake/missing-person/2",
        "missing",
        0.9,
        8.0,
        (Evidence("given_name", 3, "exact", 5.0),),
        NOW,
    )
    c.events.clear()
    return c


def test_an_undecided_candidate_withdrawn_emits_match_withdrawn() -> None:
    c = _candidate()
    assert c.withdraw(NOW) is True
    assert c.status is MatchStatus.WITHDRAWN
    [event] = [e for e in map(translate, c.events) if e is not None]
    assert event.event_type == "haven.registry.match.withdrawn.v1"
    assert event.aggregate_id() == str(c.id)
    _valid(event)


def test_a_decided_candidate_keeps_its_decision_and_says_nothing() -> None:
    c = _candidate()
    c.confirm(TOM, NOW)
    c.events.clear()
    assert c.withdraw(NOW) is False
    assert c.status is MatchStatus.CONFIRMED and c.events == []


def test_a_task_opened_and_moved_emits_requested_then_updated_keyed_by_candidate() -> None:
    candidate_id = uuid4()
    task = FamilyNotificationTask.open(
        uuid4(),
        candidate_id,
        NotificationKind.IDENTIFICATION,
        uuid4(),
        "intake/missing-person/2",
        "ngo-a",
        NOW,
    )
    task.move_to(NotificationState.IN_PROGRESS, NOW)
    events = [e for e in map(translate, task.events) if e is not None]
    assert [(e.event_type, e.state) for e in events] == [  # type: ignore[attr-defined]
        ("haven.registry.family-notification.requested.v1", "open"),
        ("haven.registry.family-notification.updated.v1", "in-progress"),
    ]
    assert {e.aggregate_id() for e in events} == {str(candidate_id)}
    for e in events:
        _valid(e)
