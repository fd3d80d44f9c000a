"""Trace stitching without servers: spans read back from a span file written by the telemetry
exporter, entries and spans of several services merged in time order, the exports, and the
`audit-trace` command's refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import typer
from opentelemetry import trace
from typer.testing import CliRunner

from haven_shared.audit.traces import TIMELINE_COLUMNS, read_spans, stitch, to_csv, to_json_lines
from haven_shared.cli.audit_trace import command
from haven_shared.telemetry import build_tracer_provider, context_from


def _spans_file(tmp_path: Path) -> tuple[Path, str, str]:
    """Two traces written by a real provider through the JSON-lines exporter (and its
    allow-list): returns the file, the first trace id and the other."""
    path = tmp_path / "spans.jsonl"
    provider = build_tracer_provider("referral", "file", file_path=path, batch=False)
    tracer = provider.get_tracer("test")
    ids = []
    for name in ("first", "second"):
        with tracer.start_as_current_span(f"process {name}", kind=trace.SpanKind.CONSUMER,
                                          attributes={"messaging.system": "kafka",
                                                      "person.name": "Amina"}) as span:
            with tracer.start_as_current_span("child"):
                pass
            ids.append(format(span.get_span_context().trace_id, "032x"))
    provider.shutdown()
    return path, ids[0], ids[1]


def test_the_spans_of_one_trace_are_read_back_with_their_allowed_attributes(
        tmp_path: Path) -> None:
    path, first, second = _spans_file(tmp_path)
    spans = read_spans(path, first, "referral")
    assert sorted(s["name"] for s in spans) == ["child", "process first"]
    parent = next(s for s in spans if s["name"] == "process first")
    child = next(s for s in spans if s["name"] == "child")
    assert child["parent_span_id"] == parent["span_id"] and parent["parent_span_id"] is None
    assert parent["span_kind"] == "consumer" and parent["service"] == "referral"
    assert parent["attributes"] == {"messaging.system": "kafka"}
    assert [s["name"] for s in read_spans(path, second, "referral")] == ["child",
                                                                          "process second"]
    assert read_spans(tmp_path / "missing.jsonl", first, "referral") == []


def test_a_truncated_line_is_skipped(tmp_path: Path) -> None:
    path, first, _ = _spans_file(tmp_path)
    with path.open("a") as f:
        f.write('{"name": "cut", "context": {"trace_id": "0x' + first)
    assert len(read_spans(path, first, "referral")) == 2


def _item(at: str, service: str, source: str, name: str, seq: int | None = None) -> dict:  # type: ignore[type-arg]
    return {"at": at, "service": service, "source": source, "name": name, "seq": seq}


def test_parts_of_several_services_are_merged_in_time_order() -> None:
    intake = {"spans": [_item("2026-11-23T10:00:00.000001+00:00", "intake", "span", "POST")],
              "entries": [_item("2026-11-23T10:00:00.000300+00:00", "intake", "audit",
                                "needs-assessment.create", 7)]}
    referral = {"spans": [_item("2026-11-23T10:00:00.000200+00:00", "referral", "span",
                                "process"),
                          _item("2026-11-23T10:00:00.000300+00:00", "referral", "span",
                                "publish")],
                "entries": [_item("2026-11-23T10:00:00.000300+00:00", "referral", "audit",
                                  "referral.create", 2)]}
    assert [(i["service"], i["name"]) for i in stitch([referral, intake])] == [
        ("intake", "POST"), ("referral", "process"), ("referral", "publish"),
        ("referral", "referral.create"), ("intake", "needs-assessment.create")]


def test_the_timeline_exports_as_json_lines_and_csv() -> None:
    items = [{**_item("2026-11-23T10:00:00+00:00", "referral", "audit", "referral.accept", 3),
              "actor": "partner:shelter-a", "roles": ["partner"]},
             {**_item("2026-11-23T10:00:01+00:00", "referral", "span", "publish"),
              "attributes": {"messaging.system": "kafka"}}]
    assert [json.loads(line) for line in "".join(to_json_lines(items)).splitlines()] == items
    rows = list(csv.DictReader(io.StringIO("".join(to_csv(items)))))
    assert list(rows[0]) == TIMELINE_COLUMNS
    assert (rows[0]["roles"], rows[1]["attributes"]) == ("partner",
                                                         '{"messaging.system": "kafka"}')


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("audit-trace")(command)
    app.command("other")(lambda: None)  # keeps audit-trace a named subcommand
    return app


def test_the_command_refuses_a_malformed_trace_id_or_format() -> None:
    runner = CliRunner()
    assert runner.invoke(_cli(), ["audit-trace", "not-hex"]).exit_code == 2
    assert runner.invoke(_cli(), ["audit-trace", "0" * 32, "--format", "xml"]).exit_code == 2
    assert runner.invoke(_cli(), ["audit-trace", "0" * 32, "--service", "mail"]).exit_code == 2


def test_an_answer_carrying_only_the_cloudevents_traceparent_continues_its_trace() -> None:
    traceparent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    for headers in ({"ce_traceparent": traceparent}, {"traceparent": traceparent}):
        ctx = trace.get_current_span(context_from(headers)).get_span_context()
        assert format(ctx.trace_id, "032x") == "ab" * 16 and ctx.is_remote
    assert not trace.get_current_span(context_from({})).get_span_context().is_valid
