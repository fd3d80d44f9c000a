"""A Haven event read off Kafka parses with the official CloudEvents SDK."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from backbone_helpers import read_topic
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from haven_shared.events import CaseOpened
from haven_shared.kafka import make_producer
from haven_shared.outbox import Outbox
from haven_shared.relay import Relay
from haven_shared.telemetry import build_tracer_provider, tracer
from haven_shared.testing.stack import LocalStack
from haven_shared.uow import UnitOfWork

pytestmark = pytest.mark.infra


def test_the_cloudevents_sdk_parses_a_case_opened_message_from_kafka(
        stack: LocalStack, pg_engine: sa.Engine, new_topic: Callable[..., str]) -> None:
    topic = new_topic("cloudevents")
    provider = build_tracer_provider("backbone-test", "none",
                                     extra_exporters=[InMemorySpanExporter()])
    event = CaseOpened.example()
    with tracer(provider).start_as_current_span("open case"), \
            UnitOfWork(pg_engine, Outbox(source="/haven/intake")) as uow:
        uow.emit(event)
        uow.commit()
    producer = make_producer(stack.kafka_bootstrap)
    try:
        Relay(pg_engine, producer, topic_for=topic, tracer_provider=provider).drain()
    finally:
        producer.close()
    (record,) = read_topic(stack.kafka_bootstrap, topic)

    parsed = from_binary(
        KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value),
        JSONFormat(),
    )
    assert parsed.get_specversion() == "1.0"
    assert parsed.get_type() == "haven.intake.case.opened.v1"
    assert parsed.get_source() == "/haven/intake"
    assert parsed.get_subject() == str(event.case_id)
    assert parsed.get_datacontenttype() == "application/json"
    assert parsed.get_time() is not None and parsed.get_time().tzinfo is not None
    assert parsed.get_extension("partitionkey") == str(event.case_id)
    assert parsed.get_extension("traceparent").startswith("00-")
    assert parsed.get_data() == event.to_payload()
    assert CaseOpened.model_validate(parsed.get_data()) == event
