"""Fixtures for intake's integration tests: the app on a fresh PostgreSQL database of its own,
real Keycloak tokens, and a reader of the `intake.case` topic on the real broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition

from haven_shared.kafka import ensure_topics, make_consumer
from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap
from intake.config import Settings

pytestmark = pytest.mark.infra
TOPIC = "intake.case"


@pytest.fixture(scope="session")
def intake_db_url(stack: LocalStack) -> Iterator[str]:
    """A database of its own for this session (dropped afterwards)."""
    admin_url = sa.make_url(stack.database_url("intake"))
    name = f"intake_it_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def intake_app(stack: LocalStack, intake_db_url: str):  # type: ignore[no-untyped-def]
    settings = Settings(environment="test", database_url=intake_db_url,
                        kafka_bootstrap=stack.kafka_bootstrap, keycloak_issuer=stack.issuer,
                        jwt_leeway_seconds=0, master_key="integration-test-master-key",
                        outcome_consumer_group=f"intake-it-outcomes-{uuid.uuid4().hex[:8]}")
    return bootstrap(settings)


@pytest.fixture(scope="session")
def client(intake_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(intake_app) as c:
        yield c


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


@pytest.fixture(scope="session")
def topic(stack: LocalStack) -> Iterator[TopicReader]:
    ensure_topics(stack.kafka_bootstrap, {TOPIC: 6})
    consumer = make_consumer(stack.kafka_bootstrap, f"intake-it-{uuid.uuid4().hex[:8]}")
    # Manual assignment (no group rebalance to wait for), starting at the current end, so the
    # reader sees exactly what this session publishes.
    deadline = time.monotonic() + 30
    while not (partitions := consumer.partitions_for_topic(TOPIC)):
        assert time.monotonic() < deadline, f"{TOPIC} has no partitions"
        time.sleep(0.2)
    assigned = [TopicPartition(TOPIC, p) for p in sorted(partitions)]
    consumer.assign(assigned)
    consumer.seek_to_end(*assigned)
    for tp in assigned:
        consumer.position(tp)  # resolve the end offsets now, before any test publishes
    yield TopicReader(consumer)
    consumer.close()
