"""Kafka adapters of the partner topics: where partner events go, and who an answer is from.

Each partner organisation has its own topics, `partner.<org>.referrals` (what referral offers
it) and `partner.<org>.responses` (what it answers). Kafka ACLs let each partner read and write
only its own prefix, so the topic, not the message body, says which partner spoke.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from kafka import KafkaConsumer

from haven_shared.events.catalogue import CATALOGUE
from haven_shared.events.referral import PARTNER_REFERRALS_TOPIC, partner_topic
from haven_shared.kafka import ensure_topics
from haven_shared.relay import catalogue_topic


class PartnerTopics:
    """Routes outbox rows to topics; partner events go to their partner's topic, which is
    created the first time it is needed (brokers do not auto-create topics)."""

    def __init__(self, bootstrap: str, partitions: int,
                 ensure: Callable[..., Any] = ensure_topics,
                 security: Mapping[str, Any] | None = None) -> None:
        self.bootstrap = bootstrap
        self.partitions = partitions
        # Topics are created with the service's own broker identity (its ACLs allow `partner.`).
        self.ensure = partial(ensure, security=security) if security else ensure
        self.known: set[str] = set()
        self.default = catalogue_topic(CATALOGUE)

    def __call__(self, row: Any) -> str:
        topic = self.default(row)
        if topic == PARTNER_REFERRALS_TOPIC:
            topic = partner_topic(str(row.payload["partner_org"]))
        if topic not in self.known:
            self.ensure(self.bootstrap, {topic: self.partitions})
            self.known.add(topic)
        return topic


RESPONSES_PATTERN = r"^partner\.[A-Za-z0-9_-]+\.responses$"


def org_of_responses_topic(topic: str) -> str:
    """The partner organisation a `partner.<org>.responses` topic belongs to."""
    return topic.split(".")[1]


class TopicStampedConsumer:
    """Wraps a Kafka consumer so that each partner answer names the partner whose topic it came
    on: Kafka ACLs authenticate the topic, while the body's own claim is not trusted."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer

    def poll(self, *args: Any, **kwargs: Any) -> dict[Any, list[Any]]:
        batch = self._consumer.poll(*args, **kwargs)
        return {tp: [self._stamp(r) for r in records] for tp, records in batch.items()}

    @staticmethod
    def _stamp(record: Any) -> Any:
        try:
            body = json.loads(record.value)
        except (TypeError, ValueError):
            return record  # the inbox dead-letters what it cannot read
        if not isinstance(body, dict):
            return record
        body["partner_org"] = org_of_responses_topic(record.topic)
        return record._replace(value=json.dumps(body).encode())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)
