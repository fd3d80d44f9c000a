"""CloudEvents binary-mode envelope: headers, body, trace context, and what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from opentelemetry.sdk.trace import TracerProvider

from haven_shared.events import CaseOpened, Envelope, MalformedEvent, ProbeRecorded


def test_an_envelope_puts_attributes_in_ce_headers_and_the_aggregate_id_in_the_key() -> None:
    event = ProbeRecorded(probe_id="p-9", seq=3)
    env = Envelope.wrap(event, "/haven/test", event_id="e-1",
                        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert env.header_map() == {
        "ce_id": "e-1", "ce_source": "/haven/test", "ce_type": "haven.test.probe.recorded.v2",
        "ce_specversion": "1.0", "ce_time": "2026-01-02T03:04:05Z", "ce_subject": "p-9",
        "content-type": "application/json",
    }
    assert env.key == "p-9"
    assert env.body() == b'{"probe_id":"p-9","seq":3,"label":""}'


def test_an_envelope_read_back_from_kafka_headers_equals_the_original() -> None:
    env = Envelope.wrap(CaseOpened.example(), "/haven/intake")
    back = Envelope.from_kafka(env.kafka_headers(), env.body())
    assert back == env


def test_an_envelope_made_inside_a_span_carries_its_traceparent_twice() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        env = Envelope.wrap(ProbeRecorded(probe_id="p", seq=1), "/haven/test")
    trace_id = f"{span.get_span_context().trace_id:032x}"
    headers = env.header_map()
    assert headers["traceparent"].split("-")[1] == trace_id
    assert headers["ce_traceparent"] == headers["traceparent"]


def test_an_envelope_made_outside_any_span_has_no_trace_headers() -> None:
    headers = Envelope.wrap(ProbeRecorded(probe_id="p", seq=1), "/haven/test").header_map()
    assert "traceparent" not in headers and "ce_traceparent" not in headers


@pytest.mark.parametrize(("headers", "value"), [
    ([], b"{}"),  # no CloudEvents attributes at all
    ([("ce_specversion", b"0.3")], b"{}"),
    ([("ce_specversion", b"1.0"), ("ce_id", b"x")], b"{}"),  # type, source, time missing
    ([("ce_specversion", b"1.0"), ("content-type", b"text/plain")], b"{}"),
    ([("ce_specversion", b"1.0")], b"not json"),
    ([("ce_specversion", b"1.0")], b"[1, 2]"),
    ([("ce_specversion", b"\xff")], b"{}"),
])
def test_messages_that_are_not_haven_cloudevents_are_refused(headers, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedEvent):
        Envelope.from_kafka(headers, value)


def test_the_cloudevents_sdk_reads_the_headers_haven_writes() -> None:
    event = CaseOpened.example()
    env = Envelope.wrap(event, "/haven/intake")
    parsed = from_binary(KafkaMessage(headers=dict(env.kafka_headers()), key=env.key.encode(),
                                      value=env.body()), JSONFormat())
    assert (parsed.get_id(), parsed.get_type(), parsed.get_source(), parsed.get_subject()) == (
        env.id, "haven.intake.case.opened.v1", "/haven/intake", str(event.case_id))
    assert parsed.get_time() == env.time
    assert parsed.get_data() == event.to_payload()
