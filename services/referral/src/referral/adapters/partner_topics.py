"""Kafka adapters of the partner topics: where partner events go, and who an answer is from.

Each partner organisation has its own topics, `partner.<org>.referrals` (what referral offers
it) and `partner.<org>.responses` (what it answers). Kafka ACLs let each partner read and write
only its own prefix, so the topic, not the message body, says which partner spoke.

Referral creates both topics of a partner before its first offer leaves, and tells its own
responses consumer at once, so the partner's first answer is read within seconds of being sent;
topics made elsewhere (another referral instance, an operator) are found by the consumer's
periodic metadata refresh (`topic_discovery_ms`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from kafka import KafkaConsumer

from haven_shared.events.catalogue import CATALOGUE
from haven_shared.events.referral import (
    PARTNER_REFERRALS_TOPIC,
    PARTNER_RESPONSES_TOPIC,
    partner_topic,
)
from haven_shared.kafka import ensure_topics
from haven_shared.relay import catalogue_topic


def responses_topic(org: str) -> str:
    """`partner.<org>.responses`: where partner `org` answers."""
    return PARTNER_RESPONSES_TOPIC.format(org=org)


class PartnerTopics:
    """Routes outbox rows to topics; partner events go to their partner's topic, which is
    created the first time it is needed (brokers do not auto-create topics), together with the
    partner's responses topic; `on_new_topics` is then called (it wakes the responses consumer).
    """

    def __init__(self, bootstrap: str, partitions: int,
                 ensure: Callable[..., Any] = ensure_topics,
                 security: Mapping[str, Any] | None = None,
                 on_new_topics: Callable[[], None] | None = None) -> None:
        self.bootstrap = bootstrap
        self.partitions = partitions
        # Topics are created with the service's own broker identity (its ACLs allow `partner.`).
        self.ensure = partial(ensure, security=security) if security else ensure
        self.on_new_topics = on_new_topics
        self.known: set[str] = set()
        self.default = catalogue_topic(CATALOGUE)

    def __call__(self, row: Any) -> str:
        topic = self.default(row)
        if topic != PARTNER_REFERRALS_TOPIC:
            if topic not in self.known:
                self.ensure(self.bootstrap, {topic: self.partitions})
                self.known.add(topic)
            return topic
        org = str(row.payload["partner_org"])
        topic = partner_topic(org)
        if topic not in self.known:
            # The answer channel exists before the offer leaves: the partner never waits for
            # it, and referral's consumer is subscribed before the first answer is sent.
            self.ensure(self.bootstrap, {topic: self.partitions,
                                         responses_topic(org): self.partitions})
            self.known.add(topic)
            if self.on_new_topics is not None:
                self.on_new_topics()
        return topic


RESPONSES_PATTERN = r"^partner\.[A-Za-z0-9_-]+\.responses$"


def org_of_responses_topic(topic: str) -> str:
    """The partner organisation a `partner.<org>.responses` topic belongs to."""
    return topic.split(".")[1]


class TopicStampedConsumer:
    """Wraps a Kafka consumer so that each partner answer names the partner whose topic it came
    on: Kafka ACLs authenticate the topic, while the body's own claim is not trusted.

    When `topics_changed` is set (referral created a partner's topics), the next poll first
    fetches the cluster's topics, so the pattern subscription takes the new topic in now rather
    than at the next periodic metadata refresh."""

    def __init__(self, consumer: KafkaConsumer,
                 topics_changed: threading.Event | None = None) -> None:
        self._consumer = consumer
        self._topics_changed = topics_changed

    def poll(self, *args: Any, **kwargs: Any) -> dict[Any, list[Any]]:
        if self._topics_changed is not None and self._topics_changed.is_set():
            self._topics_changed.clear()
            self._consumer.topics()  # a metadata fetch: the subscription re-matches the pattern
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
