"""The event catalogue: type → model, and upcasting old versions to the current one."""

from __future__ import annotations

import pytest

from haven_shared.events import CATALOGUE, Catalogue, Event, ProbeRecorded, UnknownEventType


def test_a_v1_body_is_upcast_to_the_current_model() -> None:
    event = CATALOGUE.decode("haven.test.probe.recorded.v1", {"probe_id": "p", "n": 7})
    assert event == ProbeRecorded(probe_id="p", seq=7, label="")
    assert CATALOGUE.current_type("haven.test.probe.recorded.v1") == ProbeRecorded.event_type


def test_a_current_body_decodes_to_its_model_and_ignores_fields_added_later() -> None:
    body = {"probe_id": "p", "seq": 2, "label": "x", "added_in_a_later_minor": True}
    assert CATALOGUE.decode(ProbeRecorded.event_type, body) == ProbeRecorded(
        probe_id="p", seq=2, label="x")


def test_an_unknown_type_is_reported() -> None:
    with pytest.raises(UnknownEventType):
        CATALOGUE.decode("haven.nowhere.thing.happened.v1", {})


class _Thing(Event):
    event_type = "haven.test.thing.v1"
    aggregate_type = "thing"
    aggregate_id_field = "thing_id"
    topic = "haven.test.thing"
    thing_id: str


def test_registering_two_models_under_one_type_is_refused() -> None:
    catalogue = Catalogue()
    catalogue.register(_Thing)

    class Other(_Thing):
        pass

    with pytest.raises(ValueError, match="already registered"):
        catalogue.register(Other)


def test_a_model_whose_key_field_does_not_exist_is_refused() -> None:
    class Broken(_Thing):
        aggregate_id_field = "missing"

    with pytest.raises(TypeError):
        Catalogue().register(Broken)


def test_an_upcaster_cycle_is_detected_instead_of_looping() -> None:
    catalogue = Catalogue()
    catalogue.upcaster("a.v1", "a.v2")(lambda b: b)
    catalogue.upcaster("a.v2", "a.v1")(lambda b: b)
    with pytest.raises(ValueError, match="cycle"):
        catalogue.decode("a.v1", {})


def test_the_aggregate_id_is_the_declared_field_as_text() -> None:
    assert _Thing(thing_id="t-1").aggregate_id() == "t-1"
