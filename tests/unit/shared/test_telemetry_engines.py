"""Statement spans go to the provider each engine was instrumented with, engine by engine."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from haven_shared.db import make_engine
from haven_shared.telemetry import build_tracer_provider, instrument_engine


def _db_spans(exporter: InMemorySpanExporter) -> list[str]:
    return [s.attributes.get("db.system", "") for s in exporter.get_finished_spans()
            if s.kind == SpanKind.CLIENT]


def test_two_engines_report_to_their_own_providers(tmp_path: Path) -> None:
    exporters = [InMemorySpanExporter(), InMemorySpanExporter()]
    engines = [make_engine(f"sqlite:///{tmp_path / f'db{i}.db'}") for i in range(2)]
    for exporter, engine in zip(exporters, engines, strict=True):
        provider = build_tracer_provider("test", "none", extra_exporters=[exporter])
        instrument_engine(engine, provider)
        instrument_engine(engine, provider)  # a second call changes nothing
    with engines[0].connect() as conn:
        conn.execute(sa.text("select 1"))
    first = _db_spans(exporters[0])
    assert first and set(first) == {"sqlite"}
    assert _db_spans(exporters[1]) == []
    with engines[1].connect() as conn:
        conn.execute(sa.text("select 2"))
    assert set(_db_spans(exporters[1])) == {"sqlite"}
    assert _db_spans(exporters[0]) == first


def test_an_engine_made_later_is_not_traced_behind_its_back(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    instrument_engine(make_engine(f"sqlite:///{tmp_path / 'a.db'}"),
                      build_tracer_provider("test", "none", extra_exporters=[exporter]))
    with make_engine(f"sqlite:///{tmp_path / 'b.db'}").connect() as conn:
        conn.execute(sa.text("select 1"))
    assert _db_spans(exporter) == []
