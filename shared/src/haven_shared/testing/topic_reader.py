"""A test's reader of one topic on a broker shared with other suites.

It is assigned every partition by hand (no group rebalance to wait for) and starts at the topic's
current end, so it sees exactly what the test session publishes from then on.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from haven_shared.kafka import make_consumer


class TopicReader:
    """Reads one topic and finds records by key and CloudEvents type."""

    def __init__(self, consumer: KafkaConsumer, topic: str) -> None:
        self.consumer = consumer
        self.topic = topic
        self.seen: list[Any] = []

    @classmethod
    def at_end(cls, bootstrap: str, topic: str, *, client: str = "test-reader",
               timeout: float = 30.0) -> TopicReader:
        """A reader of `topic` positioned at its current end (the topic must exist)."""
        consumer = make_consumer(bootstrap, f"{client}-{uuid.uuid4().hex[:8]}")
        deadline = time.monotonic() + timeout
        while not (partitions := consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                consumer.close()
                raise AssertionError(f"{topic} has no partitions")
            time.sleep(0.2)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_end(*assigned)
        for tp in assigned:
            consumer.position(tp)  # resolve the end offsets now, before anything is published
        return cls(consumer, topic)

    def close(self) -> None:
        self.consumer.close()

    def poll(self, timeout_ms: int = 300) -> None:
        for records in self.consumer.poll(timeout_ms=timeout_ms).values():
            self.seen.extend(records)

    def of(self, key: str, ce_type: str | None = None) -> list[Any]:
        """Records read so far with this key (and CloudEvents type), in the order read."""
        return [r for r in self.seen if r.key == key.encode() and (
            ce_type is None or dict(r.headers or []).get("ce_type") == ce_type.encode())]

    def count(self, key: str, ce_type: str) -> int:
        """How many records of this key and type were read so far."""
        return len(self.of(key, ce_type))

    def wait_count(self, key: str, ce_type: str, n: int, timeout: float = 30.0) -> list[Any]:
        """Wait until `n` records of this key and type were read; return them in order."""
        deadline = time.monotonic() + timeout
        while self.count(key, ce_type) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {n} {ce_type} events for {key} on {self.topic}")
            self.poll(500)
        return self.of(key, ce_type)

    def wait_for(self, key: str, ce_type: str, timeout: float = 30.0) -> Any:
        """The first record with this key and type; fails after `timeout`."""
        return self.wait_count(key, ce_type, 1, timeout)[0]
