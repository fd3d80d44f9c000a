"""A reader of the `intake.case` topic on the real broker (a module of its own, so test modules
import it by a unique name whatever other test directories run in the same session)."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaConsumer

TOPIC = "intake.case"


class TopicReader:
    """Reads `intake.case` from the real broker and finds events by key and type."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer
        self.seen: list[Any] = []

    def wait_for(self, key: str, ce_type: str, timeout: float = 30.0) -> Any:
        """The first record with this key and CloudEvents type; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.seen:
                headers = dict(record.headers or [])
                if record.key == key.encode() and headers.get("ce_type") == ce_type.encode():
                    return record
            if time.monotonic() > deadline:
                raise AssertionError(f"no {ce_type} event for {key} on {TOPIC}")
            for records in self.consumer.poll(timeout_ms=500).values():
                self.seen.extend(records)

    def wait_count(self, key: str, ce_type: str, n: int, timeout: float = 30.0) -> list[Any]:
        """Wait until `n` records of this key and type were read; return them in order."""
        deadline = time.monotonic() + timeout
        while self.count(key, ce_type) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {n} {ce_type} events for {key}")
            for records in self.consumer.poll(timeout_ms=500).values():
                self.seen.extend(records)
        return [r for r in self.seen if r.key == key.encode()
                and dict(r.headers or []).get("ce_type") == ce_type.encode()]

    def count(self, key: str, ce_type: str) -> int:
        """How many records of this key and type were read so far."""
        return sum(1 for r in self.seen if r.key == key.encode()
                   and dict(r.headers or []).get("ce_type") == ce_type.encode())
