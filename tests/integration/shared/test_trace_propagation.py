"""One trace id from the REST request through the outbox row and Kafka to the consumer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from backbone_helpers import change_probe, header, read_topic
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.orm import Session

from haven_shared.events import ProbeRecorded
from haven_shared.inbox import InboxConsumer
from haven_shared.kafka import make_consumer, make_producer
from haven_shared.outbox import Outbox, OutboxMessage
from haven_shared.relay import Relay
from haven_shared.telemetry import (
    ALLOWED_ATTRIBUTES,
    build_tracer_provider,
    instrument_app,
    instrument_engine,
    trace_id_of,
)
from haven_shared.testing.stack import LocalStack
from haven_shared.uow import UnitOfWork

pytestmark = pytest.mark.infra


def test_one_trace_id_spans_request_outbox_row_kafka_headers_and_consumer(
        stack: LocalStack, pg_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic = new_topic("trace")
    spans = InMemorySpanExporter()
    provider = build_tracer_provider("backbone-test", "none", extra_exporters=[spans])
    instrument_engine(pg_engine, provider)
    outbox = Outbox(source="/haven/test")

    app = FastAPI()

    @app.post("/probes/{probe_id}")
    def move(probe_id: str, note: str = "") -> dict[str, str]:
        with UnitOfWork(pg_engine, outbox) as uow:
            change_probe(uow, probe_id, label=note)
            uow.commit()
        return {"status": "recorded"}

    instrument_app(app, provider)
    # The query string stands for personal data a client might send; it must reach no span.
    with TestClient(app) as client:
        assert client.post("/probes/p-1", params={"note": "Amina Yusuf"}).status_code == 200

    producer = make_producer(stack.kafka_bootstrap)
    try:
        assert Relay(pg_engine, producer, topic_for=topic, tracer_provider=provider).drain() == 1
    finally:
        producer.close()
    group = f"{topic}-consumer"
    consumer = InboxConsumer(pg_engine, lambda: make_consumer(stack.kafka_bootstrap, group, [topic]),
                             {ProbeRecorded: lambda e, uow: None}, name=group,
                             tracer_provider=provider)
    for _ in range(60):
        if consumer.poll_once(500).applied:
            break
    consumer.close()
    provider.force_flush()

    finished = spans.get_finished_spans()
    (server,) = [s for s in finished if s.kind == SpanKind.SERVER]
    (publish,) = [s for s in finished if s.kind == SpanKind.PRODUCER]
    (process,) = [s for s in finished if s.kind == SpanKind.CONSUMER]
    trace_id = f"{server.context.trace_id:032x}"
    with Session(pg_engine) as s:
        row = s.execute(sa.select(OutboxMessage)).scalar_one()
    (record,) = read_topic(stack.kafka_bootstrap, topic)

    assert trace_id_of(row.headers["traceparent"]) == trace_id
    assert trace_id_of(header(record, "traceparent")) == trace_id
    assert f"{publish.context.trace_id:032x}" == trace_id
    assert f"{process.context.trace_id:032x}" == trace_id
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert any(s.kind == SpanKind.CLIENT and s.attributes.get("db.system") for s in finished)
    for span in finished:
        assert set(span.attributes or {}) <= ALLOWED_ATTRIBUTES
        assert "Amina" not in span.to_json()
