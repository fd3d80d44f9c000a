"""Fakes for unit tests of the event backbone: an in-memory Kafka producer and consumer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kafka.structs import OffsetAndMetadata, TopicPartition


class FakeFuture:
    def __init__(self, error: Exception | None = None) -> None:
        self.is_done = True
        self.exception = error

    def succeeded(self) -> bool:
        return self.exception is None

    def get(self, timeout: float | None = None) -> None:
        if self.exception:
            raise self.exception


@dataclass
class FakeProducer:
    """Records what was sent; `fail_when(key, value)` makes chosen sends fail."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_when: Any = None

    def send(self, topic: str, key: bytes | None = None, value: bytes | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> FakeFuture:
        if self.fail_when and self.fail_when(key, value):
            return FakeFuture(RuntimeError("broker unavailable"))
        self.sent.append({"topic": topic, "key": key, "value": value,
                          "headers": dict(headers or [])})
        return FakeFuture()

    def flush(self, timeout: float | None = None) -> None:
        return None


@dataclass
class FakeRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class FakeConsumer:
    """Hands out the given records in one poll, then nothing; remembers commits."""

    def __init__(self, records: list[FakeRecord]) -> None:
        self.batches: list[dict[TopicPartition, list[FakeRecord]]] = []
        batch: dict[TopicPartition, list[FakeRecord]] = defaultdict(list)
        for r in records:
            batch[TopicPartition(r.topic, r.partition)].append(r)
        self.batches.append(dict(batch))
        self.commits: list[dict[TopicPartition, OffsetAndMetadata]] = []
        self.on_commit: Any = None
        self.closed = False

    def poll(self, timeout_ms: int = 0, max_records: int | None = None
             ) -> dict[TopicPartition, list[FakeRecord]]:
        return self.batches.pop(0) if self.batches else {}

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        if self.on_commit:
            self.on_commit()
        self.commits.append(offsets)

    def close(self, autocommit: bool = True) -> None:
        self.closed = True


def record_from(envelope: Any, topic: str = "t", partition: int = 0, offset: int = 0
                ) -> FakeRecord:
    """A consumer record carrying `envelope` as the relay would send it."""
    return FakeRecord(topic, partition, offset, envelope.key.encode(), envelope.body(),
                      envelope.kafka_headers())
