"""A message produced by one service's producer reaches another service's consumer group intact."""

from __future__ import annotations

import uuid

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from haven_shared.testing.stack import LocalStack
from intake.config import Settings as IntakeSettings
from registry.config import Settings as RegistrySettings


def test_a_message_from_intake_reaches_a_registry_consumer_group_with_headers(
    stack: LocalStack,
) -> None:
    intake = IntakeSettings(kafka_bootstrap=stack.kafka_bootstrap)
    registry = RegistrySettings(kafka_bootstrap=stack.kafka_bootstrap)
    topic = f"platform-test-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=intake.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        admin.close()

    headers = [
        ("ce_id", b"0b6f7c1e"),
        ("ce_type", b"haven.test.platform.v1"),
        ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ]
    producer = KafkaProducer(bootstrap_servers=intake.bootstrap_servers, acks="all")
    producer.send(topic, key=b"case-1", value=b'{"n": 1}', headers=headers).get(timeout=30)
    producer.close()

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=registry.bootstrap_servers,
        group_id=f"{registry.service_name}-platform-test",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=30_000,
    )
    try:
        record = next(iter(consumer))
        consumer.commit()
    finally:
        consumer.close()
    assert record.key == b"case-1"
    assert record.value == b'{"n": 1}'
    assert list(record.headers) == headers
