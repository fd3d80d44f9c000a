"""Telemetry: only allowed span attributes leave the process; exporters by configuration."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from haven_shared.telemetry import (
    build_tracer_provider,
    context_from,
    current_trace_headers,
    make_exporter,
    trace_id_of,
    tracer,
)


def test_attributes_outside_the_allow_list_never_reach_an_exporter() -> None:
    spans = InMemorySpanExporter()
    provider = build_tracer_provider("unit", extra_exporters=[spans])
    with tracer(provider).start_as_current_span("POST /cases") as span:
        span.set_attribute("http.route", "/cases")
        span.set_attribute("url.full", "http://intake/cases?name=Amina+Yusuf")
        span.set_attribute("client.address", "203.0.113.7")
        span.set_attribute("db.statement", "INSERT INTO person VALUES ('Amina')")
        span.add_event("note", {"person.name": "Amina", "haven.outcome": "applied"})
    (exported,) = spans.get_finished_spans()
    assert dict(exported.attributes) == {"http.route": "/cases"}
    assert dict(exported.events[0].attributes) == {"haven.outcome": "applied"}


def test_an_exception_keeps_its_type_but_not_its_message() -> None:
    spans = InMemorySpanExporter()
    provider = build_tracer_provider("unit", extra_exporters=[spans])
    with pytest.raises(ValueError), tracer(provider).start_as_current_span("handle"):
        raise ValueError("no match for Amina Yusuf, born 1990")
    (exported,) = spans.get_finished_spans()
    assert "Amina" not in exported.to_json()
    assert exported.events[0].attributes["exception.type"] == "ValueError"
    assert not exported.status.is_ok


def test_extra_allowed_attributes_can_be_added_per_service() -> None:
    spans = InMemorySpanExporter()
    provider = build_tracer_provider("unit", extra_exporters=[spans],
                                     extra_allowed=["haven.queue_depth"])
    with tracer(provider).start_as_current_span("relay") as span:
        span.set_attribute("haven.queue_depth", 3)
    assert dict(spans.get_finished_spans()[0].attributes) == {"haven.queue_depth": 3}


def test_the_file_exporter_writes_one_json_object_per_span(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "traces" / "intake.jsonl"
    provider = build_tracer_provider("intake", "file", file_path=path, batch=False)
    with tracer(provider).start_as_current_span("a"), tracer(provider).start_as_current_span("b"):
        pass
    provider.shutdown()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [x["name"] for x in lines] == ["b", "a"]
    assert lines[0]["context"]["trace_id"] == lines[1]["context"]["trace_id"]


def test_exporters_are_chosen_by_name() -> None:
    assert make_exporter("none") is None
    assert isinstance(make_exporter("console"), ConsoleSpanExporter)
    assert type(make_exporter("otlp", otlp_endpoint="http://127.0.0.1:4318/v1/traces")
                ).__name__ == "OTLPSpanExporter"
    with pytest.raises(ValueError):
        make_exporter("file")
    with pytest.raises(ValueError):
        make_exporter("jaeger")  # type: ignore[arg-type]


def test_trace_context_survives_a_header_round_trip() -> None:
    provider = build_tracer_provider("unit")
    with tracer(provider).start_as_current_span("request") as span:
        headers = current_trace_headers()
    with tracer(provider).start_as_current_span("consume", context=context_from(headers)) as child:
        pass
    assert child.get_span_context().trace_id == span.get_span_context().trace_id
    assert trace_id_of(headers["traceparent"]) == f"{span.get_span_context().trace_id:032x}"
    assert trace_id_of("garbage") is None
