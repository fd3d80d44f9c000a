"""Reading the registry's topics in tests: what was published for a key after a point."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from haven_shared.kafka import ensure_topics
from haven_shared.testing.stack import LocalStack


def topic_ends(stack: LocalStack, topic: str) -> dict[TopicPartition, int]:
    """The current end offset of each partition (the topic is created when missing)."""
    ensure_topics(stack.kafka_bootstrap, {topic: 3})
    c = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=None)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or [])]
        return dict(c.end_offsets(parts))
    finally:
        c.close()


def records_with_key(stack: LocalStack, since: dict[TopicPartition, int], key: str, *,
                     until_type: str | None = None, count: int = 1, within: float = 30.0
                     ) -> list[Any]:
    """Records with `key` published after `since`, in order, until `count` of them (or until
    one of CloudEvents type `until_type`) have arrived; gives up after `within` seconds."""
    c = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=None,
                      enable_auto_commit=False)
    found: list[Any] = []

    def done() -> bool:
        if until_type is not None:
            return any(header(r, "ce_type") == until_type for r in found)
        return len(found) >= count

    try:
        c.assign(list(since))
        for tp, offset in since.items():
            c.seek(tp, offset)
        deadline = time.monotonic() + within
        while not done() and time.monotonic() < deadline:
            for batch in c.poll(timeout_ms=300).values():
                found += [r for r in batch if r.key == key.encode()]
    finally:
        c.close()
    return found


def header(record: Any, name: str) -> str | None:
    """One header of a consumed record, as text."""
    return next((v.decode() for k, v in record.headers if k == name), None)
