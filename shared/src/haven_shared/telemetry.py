"""OpenTelemetry for one Haven service: traces through REST, database and Kafka.

    provider = setup_telemetry("intake", exporter="file", file_path="traces/intake.jsonl",
                               app=app, engines=[engine])

The trace context of a request is stamped on every outbox row it writes; the relay continues
that trace in a producer span and puts the producer span's `traceparent` in the Kafka headers;
the inbox consumer starts its consumer span from those headers. One trace id therefore spans
REST → outbox → Kafka → consumer across services.

No personal data may reach a span: every span passes `AllowListSpanProcessor`, which keeps only
attribute names on `ALLOWED_ATTRIBUTES` (no URLs, query strings, client addresses, SQL text,
exception messages) before any exporter sees it.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Status

ExporterKind = Literal["otlp", "console", "file", "none"]

#: Span attribute names that may be exported. Everything else is dropped.
ALLOWED_ATTRIBUTES: frozenset[str] = frozenset({
    # HTTP server (route template, never the concrete URL or query)
    "http.method", "http.request.method", "http.route", "http.status_code",
    "http.response.status_code", "http.scheme", "http.flavor", "network.protocol.version",
    # database (no statement text: literals could be personal)
    "db.system", "db.system.name", "db.name", "db.namespace", "db.operation",
    "db.operation.name", "db.collection.name", "db.sql.table", "server.address",
    "server.port", "net.peer.name", "net.peer.port",
    # messaging
    "messaging.system", "messaging.destination.name", "messaging.operation",
    "messaging.operation.name", "messaging.operation.type", "messaging.message.id",
    "messaging.kafka.destination.partition", "messaging.kafka.message.offset",
    "messaging.consumer.group.name", "messaging.batch.message_count",
    "cloudevents.event_id", "cloudevents.event_type", "cloudevents.event_source",
    # Haven's own
    "haven.outcome", "haven.attempt", "haven.aggregate_type", "haven.service",
    # exception events: the type only, never the message
    "exception.type", "exception.escaped",
})


class AllowListSpanProcessor(SpanProcessor):
    """Strips every non-allowed attribute (span, events, links) and status text, then
    hands the span to the wrapped processor."""

    def __init__(self, inner: SpanProcessor, allowed: Iterable[str] = ALLOWED_ATTRIBUTES
                 ) -> None:
        self.inner = inner
        self.allowed = frozenset(allowed)

    def _keep(self, attributes: Mapping[str, Any] | None) -> dict[str, Any]:
        return {k: v for k, v in (attributes or {}).items() if k in self.allowed}

    def on_start(self, span: Any, parent_context: otel_context.Context | None = None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        clean = ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=self._keep(span.attributes),
            events=[Event(e.name, self._keep(e.attributes), e.timestamp) for e in span.events],
            links=[trace.Link(link.context, self._keep(link.attributes)) for link in span.links],
            kind=span.kind,
            # The description of an error status is usually the exception message.
            status=Status(span.status.status_code),
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )
        self.inner.on_end(clean)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON object per span to a file (readable with jq, DuckDB, Python)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(json.loads(s.to_json(indent=None)), separators=(",", ":"))
                 for s in spans]
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def make_exporter(kind: ExporterKind, *, otlp_endpoint: str | None = None,
                  file_path: str | Path | None = None) -> SpanExporter | None:
    """The span exporter for `kind`; None for "none"."""
    if kind == "none":
        return None
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "file":
        if file_path is None:
            raise ValueError("the file exporter needs file_path")
        return JsonLinesSpanExporter(file_path)
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=otlp_endpoint) if otlp_endpoint else OTLPSpanExporter()
    raise ValueError(f"unknown exporter {kind!r}")


def build_tracer_provider(service_name: str, exporter: ExporterKind = "none", *,
                          otlp_endpoint: str | None = None, file_path: str | Path | None = None,
                          extra_exporters: Iterable[SpanExporter] = (),
                          extra_allowed: Iterable[str] = (), batch: bool = True
                          ) -> TracerProvider:
    """A tracer provider whose every exporter sits behind the attribute allow-list.

    `extra_exporters` (e.g. an InMemorySpanExporter in tests) are exported synchronously.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    allowed = ALLOWED_ATTRIBUTES | frozenset(extra_allowed)
    main = make_exporter(exporter, otlp_endpoint=otlp_endpoint, file_path=file_path)
    if main is not None:
        inner = BatchSpanProcessor(main) if batch else SimpleSpanProcessor(main)
        provider.add_span_processor(AllowListSpanProcessor(inner, allowed))
    for extra in extra_exporters:
        provider.add_span_processor(AllowListSpanProcessor(SimpleSpanProcessor(extra), allowed))
    return provider


def instrument_app(app: Any, provider: TracerProvider) -> None:
    """Server spans for a FastAPI app, parented on the caller's `traceparent`."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)


_INSTRUMENTED_ENGINES: weakref.WeakSet[Any] = weakref.WeakSet()


def instrument_engine(engine: Any, provider: TracerProvider) -> None:
    """Spans for every statement on a SQLAlchemy engine (see `instrument_engines`)."""
    instrument_engines([engine], provider)


def instrument_engines(engines: Sequence[Any], provider: TracerProvider) -> None:
    """Spans for every statement on these SQLAlchemy engines, recorded by `provider`.

    Each engine gets the instrumentation's statement listeners directly, with a tracer of this
    provider. (`SQLAlchemyInstrumentor` would instead patch `create_engine` for the whole
    process, once: every engine made later would report to the first provider, and a second
    service or test in the same process to none of its own.) An engine is instrumented once.
    """
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    statements = trace.get_tracer("haven_shared.sqlalchemy", tracer_provider=provider)
    usage = get_meter("haven_shared.sqlalchemy").create_up_down_counter(
        "db.client.connections.usage", unit="connections")
    for engine in engines:
        if engine in _INSTRUMENTED_ENGINES:
            continue
        EngineTracer(statements, engine, usage)
        _INSTRUMENTED_ENGINES.add(engine)


def setup_telemetry(service_name: str, exporter: ExporterKind = "none", *,
                    app: Any = None, engines: Iterable[Any] = (), set_global: bool = True,
                    **provider_options: Any) -> TracerProvider:
    """Build the provider, make it global, instrument the app and engines; call once at start."""
    provider = build_tracer_provider(service_name, exporter, **provider_options)
    if set_global:
        trace.set_tracer_provider(provider)
    if app is not None:
        instrument_app(app, provider)
    engines = list(engines)
    if engines:
        instrument_engines(engines, provider)
    return provider


# ---- Kafka propagation (kafka-python's poll() is not auto-instrumented) ---------------------

class _MapGetter(Getter[Mapping[str, str]]):
    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value] if value is not None else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


def context_from(headers: Mapping[str, str]) -> otel_context.Context:
    """The trace context carried by a header map (outbox row headers or decoded Kafka headers).

    A message carrying only the CloudEvents distributed-tracing extension (`ce_traceparent`,
    as the CloudEvents SDKs write it in Kafka binary mode; partners answer that way) continues
    that trace too."""
    if "traceparent" not in headers and "ce_traceparent" in headers:
        headers = {**headers, "traceparent": headers["ce_traceparent"]}
        if "ce_tracestate" in headers:
            headers["tracestate"] = headers["ce_tracestate"]
    return propagate.extract(headers, getter=_MapGetter())


def current_trace_headers() -> dict[str, str]:
    """`traceparent` (and `tracestate`) of the current span, for putting on a message."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def tracer(provider: TracerProvider | None = None) -> trace.Tracer:
    """Haven's tracer from `provider`, or from the global provider."""
    return trace.get_tracer("haven_shared", tracer_provider=provider)


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id inside a W3C traceparent value."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 else None
