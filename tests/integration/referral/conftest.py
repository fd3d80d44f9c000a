"""Fixtures for referral's integration tests: the app on a fresh PostgreSQL database of its own,
relaying to the real broker, real Keycloak tokens, and readers of the partner topics."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition

from haven_shared.events.referral import TOPIC, partner_topic
from haven_shared.kafka import ensure_topics, make_consumer
from haven_shared.testing.stack import LocalStack
from referral.bootstrap import bootstrap
from referral.config import Settings
from referral.service_layer.referrals import Deps

# The event builders live with the unit tests; both suites use them.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "referral"))

pytestmark = pytest.mark.infra
PARTNERS = ("shelter-a", "clinic-b")


@pytest.fixture(scope="session")
def referral_db_url(stack: LocalStack) -> Iterator[str]:
    """A database of its own for this session (dropped afterwards)."""
    url = stack.create_database("referral_it")
    yield url
    stack.drop_database(url)


@pytest.fixture(scope="session")
def referral_settings(stack: LocalStack, referral_db_url: str) -> Settings:
    return Settings(environment="test", database_url=referral_db_url,
                    kafka_bootstrap=stack.kafka_bootstrap, keycloak_issuer=stack.issuer,
                    jwt_leeway_seconds=0, master_key="referral-integration-master-key",
                    relay_idle_seconds=0.05, provider_consumer_enabled=False,
                    topic_discovery_ms=1000, escalation_interval_seconds=0)


@pytest.fixture(scope="session")
def referral_app(stack: LocalStack, referral_settings: Settings):  # type: ignore[no-untyped-def]
    # The partners' answer topics exist before the app subscribes to them by pattern.
    ensure_topics(stack.kafka_bootstrap, {f"partner.{org}.responses": 3 for org in PARTNERS})
    ensure_topics(stack.kafka_bootstrap, {"intake.case": 6})
    return bootstrap(referral_settings)


@pytest.fixture(scope="session")
def client(referral_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(referral_app) as c:
        yield c


@pytest.fixture(scope="session")
def deps(client: TestClient) -> Deps:
    """The use cases' dependencies of the running app (to seed the read model)."""
    wired: Deps = client.app.state.referral_deps  # type: ignore[attr-defined]
    return wired


@pytest.fixture(scope="session")
def auth(stack: LocalStack) -> Callable[[str], dict[str, str]]:
    """`auth("ana")` → Authorization header of a real token for that demo user (cached)."""
    cache: dict[str, str] = {}

    def header(user: str) -> dict[str, str]:
        if user not in cache:
            cache[user] = stack.password_token(user)
        return {"Authorization": f"Bearer {cache[user]}"}

    return header


class TopicReader:
    """Reads one topic of the real broker from where it ended when the session started."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer
        self.seen: list[Any] = []

    def poll(self) -> None:
        for records in self.consumer.poll(timeout_ms=300).values():
            self.seen.extend(records)

    def of(self, key: str, ce_type: str | None = None) -> list[Any]:
        """Records read so far with this key (and CloudEvents type)."""
        return [r for r in self.seen if r.key == key.encode() and (
            ce_type is None or dict(r.headers or []).get("ce_type") == ce_type.encode())]

    def wait_for(self, key: str, ce_type: str, timeout: float = 30.0) -> Any:
        """The first record with this key and type; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while not self.of(key, ce_type):
            assert time.monotonic() < deadline, f"no {ce_type} for {key}"
            self.poll()
        return self.of(key, ce_type)[0]


def _reader(bootstrap: str, topic: str) -> TopicReader:
    consumer = make_consumer(bootstrap, f"referral-it-{uuid.uuid4().hex[:8]}")
    deadline = time.monotonic() + 30
    while not (partitions := consumer.partitions_for_topic(topic)):
        assert time.monotonic() < deadline, f"{topic} has no partitions"
        time.sleep(0.2)
    assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(assigned)
    consumer.seek_to_end(*assigned)
    for tp in assigned:
        consumer.position(tp)
    return TopicReader(consumer)


@pytest.fixture(scope="session")
def topics(stack: LocalStack, referral_settings: Settings) -> Iterator[dict[str, TopicReader]]:
    """Readers of `referral.referral` and of each partner's `partner.<org>.referrals`."""
    names = {"referral": TOPIC, **{org: partner_topic(org) for org in PARTNERS}}
    ensure_topics(stack.kafka_bootstrap, dict.fromkeys(names.values(),
                                                       referral_settings.topic_partitions))
    readers = {k: _reader(stack.kafka_bootstrap, t) for k, t in names.items()}
    yield readers
    for r in readers.values():
        r.consumer.close()
