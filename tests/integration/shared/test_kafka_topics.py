"""Topic creation helper against the real broker (auto-creation is off there)."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer

from haven_shared.kafka import ensure_topics
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra


def test_ensure_topics_creates_missing_topics_once_with_their_partition_counts(
        stack: LocalStack) -> None:
    a, b = (f"test.topics.{uuid.uuid4().hex[:8]}" for _ in range(2))
    assert ensure_topics(stack.kafka_bootstrap, {a: 2, b: 5}) == sorted([a, b])
    assert ensure_topics(stack.kafka_bootstrap, [a, b]) == []
    probe = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap)
    try:
        assert len(probe.partitions_for_topic(a)) == 2
        assert len(probe.partitions_for_topic(b)) == 5
    finally:
        probe.close()
