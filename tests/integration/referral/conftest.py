"""Fixtures for referral's integration tests: the app on a fresh PostgreSQL database of its own,
relaying to the real broker, real Keycloak tokens, and readers of the partner topics."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from haven_shared.events.referral import TOPIC, partner_topic
from haven_shared.kafka import ensure_topics
from haven_shared.testing.stack import LocalStack
from haven_shared.testing.topic_reader import TopicReader
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


def _reader(bootstrap: str, topic: str) -> TopicReader:
    return TopicReader.at_end(bootstrap, topic, client="referral-it")


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
