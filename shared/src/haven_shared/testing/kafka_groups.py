"""Kafka helpers for tests that share one broker with other suites."""

from __future__ import annotations

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from haven_shared.kafka import ensure_topics, make_consumer


def start_group_at_end(bootstrap: str, group: str, topic: str, partitions: int = 3) -> None:
    """Commit `group`'s offsets at the current end of `topic`, so that a consumer of that
    group sees only what is published from now on, not what other suites left there."""
    ensure_topics(bootstrap, {topic: partitions})
    consumer = make_consumer(bootstrap, group)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(parts)
        consumer.seek_to_end(*parts)
        consumer.commit({tp: OffsetAndMetadata(consumer.position(tp), "", -1) for tp in parts})
    finally:
        consumer.close()
