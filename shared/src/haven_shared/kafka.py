"""Kafka client factories with Haven's delivery settings, and topic creation.

Producers are idempotent with `acks=all` (no duplicates or reordering from retries within a
partition); consumers never auto-commit (the inbox commits offsets after the database commit).
`security` takes kafka-python's connection keywords (SASL, TLS) from the service settings.

    producer = make_producer(settings.kafka_bootstrap, client_id="intake-relay")
    ensure_topics(settings.kafka_bootstrap, {"intake.case": 6})
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)

PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable_idempotence": True,
    "acks": "all",
    # Idempotence keeps order with up to 5 requests in flight per connection.
    "max_in_flight_requests_per_connection": 5,
    "linger_ms": 5,
    "request_timeout_ms": 30_000,
}

CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "max_poll_records": 500,
    # A group's leader assigns only the partitions its metadata knows. If a subscribed topic's
    # metadata had not arrived when the group formed, the members get none of its partitions
    # until the next refresh triggers a rebalance: every 10 s here, not the client's 5 min.
    "metadata_max_age_ms": 10_000,
}


def make_producer(bootstrap: str, *, client_id: str = "haven",
                  security: Mapping[str, Any] | None = None, **overrides: Any) -> KafkaProducer:
    """An idempotent `acks=all` producer; keys and values are bytes."""
    config = {**PRODUCER_DEFAULTS, **(security or {}), **overrides}
    return KafkaProducer(bootstrap_servers=bootstrap, client_id=client_id, **config)


def make_consumer(bootstrap: str, group_id: str, topics: Iterable[str] = (), *,
                  client_id: str = "haven", security: Mapping[str, Any] | None = None,
                  **overrides: Any) -> KafkaConsumer:
    """A consumer in `group_id` subscribed to `topics`, with offset commits left to the caller."""
    config = {**CONSUMER_DEFAULTS, **(security or {}), **overrides}
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id,
                             client_id=client_id, **config)
    topics = list(topics)
    if topics:
        consumer.subscribe(topics)
    return consumer


def make_admin(bootstrap: str, *, security: Mapping[str, Any] | None = None,
               **overrides: Any) -> KafkaAdminClient:
    """An admin client (topic creation, offsets, ACLs)."""
    return KafkaAdminClient(bootstrap_servers=bootstrap, **{**(security or {}), **overrides})


def ensure_topics(bootstrap: str, topics: Mapping[str, int] | Iterable[str], *,
                  partitions: int = 3, replication_factor: int = -1,
                  configs: Mapping[str, str] | None = None,
                  security: Mapping[str, Any] | None = None) -> list[str]:
    """Create the topics that do not exist yet and wait until they have leaders.

    `topics` maps name → partition count, or is a list of names (each with `partitions`).
    Returns the names actually created. Brokers run with auto-creation off, so every service
    calls this at start-up for the topics it produces. `replication_factor` -1 takes the
    broker's `default.replication.factor` (1 on a single node, 3 on the three-node cluster).
    """
    wanted = dict(topics) if isinstance(topics, Mapping) else dict.fromkeys(topics, partitions)
    admin = make_admin(bootstrap, security=security)
    try:
        existing = set(admin.list_topics())
        missing = {n: p for n, p in wanted.items() if n not in existing}
        if not missing:
            return []
        spec = {
            name: {"num_partitions": count, "replication_factor": replication_factor,
                   "configs": dict(configs or {})}
            for name, count in missing.items()
        }
        try:
            admin.create_topics(spec, wait_for_metadata=True)
        except TopicAlreadyExistsError:
            # Another service instance created one of them first; that is fine.
            log.info("some topics already existed")
            admin.wait_for_topics(list(missing))
        return sorted(missing)
    finally:
        admin.close()
