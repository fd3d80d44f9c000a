"""Fixtures for referral's integration tests: the app on a fresh PostgreSQL database of its own,
relaying to the real broker, real Keycloak tokens, and readers of the partner topics."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
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


FIGURES = Path(__file__).resolve().parents[3] / ".run" / "referral-audit-figures.json"


@pytest.fixture(scope="session", autouse=True)
def audit_figures(referral_db_url: str) -> Iterator[None]:
    """After the session: how many audit entries referral's tests wrote, and how many served
    reads of a case's referrals carried a purpose (written to
    `.run/referral-audit-figures.json`)."""
    yield
    engine = sa.create_engine(referral_db_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("audit_entry"):
                return  # no test of this session started the shared app
            rows = conn.execute(sa.text(
                "SELECT action, outcome, purpose IS NOT NULL AS has_purpose, count(*) AS n "
                "FROM audit_entry GROUP BY 1, 2, 3")).all()
    finally:
        engine.dispose()
    reads = [r for r in rows if r.action.endswith((".read", ".list"))
             and r.action != "deadline.list" and r.outcome == "success"]
    served = sum(r.n for r in reads)
    with_purpose = sum(r.n for r in reads if r.has_purpose)
    figures = {
        "entries": sum(r.n for r in rows),
        "by_outcome": {o: sum(r.n for r in rows if r.outcome == o)
                       for o in ("success", "denied", "failed")},
        "by_action": {a: sum(r.n for r in rows if r.action == a)
                      for a in sorted({r.action for r in rows})},
        "case_reads_served": served,
        "case_reads_with_purpose": with_purpose,
        "share_with_purpose": with_purpose / served if served else None,
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


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
    """`auth("ana")` → Authorization header of a real token for that demo user (cached for a
    minute: a session on a busy machine outlives the realm's token lifetime)."""
    cache: dict[str, tuple[str, float]] = {}

    def header(user: str) -> dict[str, str]:
        token, fetched = cache.get(user, ("", 0.0))
        if time.monotonic() - fetched > 60:
            token, fetched = stack.password_token(user), time.monotonic()
            cache[user] = (token, fetched)
        return {"Authorization": f"Bearer {token}"}

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
