"""Topics the services create take the broker's replication factor, not a fixed one."""

from __future__ import annotations

import uuid

from haven_shared.kafka import ensure_topics, make_admin
from haven_shared.testing.stack import LocalStack


def test_a_created_topic_has_the_brokers_default_replication(stack: LocalStack) -> None:
    topic = f"haven.test.replication-{uuid.uuid4().hex[:8]}"
    assert ensure_topics(stack.kafka_bootstrap, {topic: 2}) == [topic]
    admin = make_admin(stack.kafka_bootstrap)
    try:
        (described,) = admin.describe_topics([topic])
        replicas = {len(p["replica_nodes"]) for p in described["partitions"]}
        assert replicas == {stack.kafka_brokers}  # default.replication.factor of kafka.sh
        admin.delete_topics([topic])
    finally:
        admin.close()
