"""Fixtures for intake's integration tests: the app on a fresh PostgreSQL database of its own,
real Keycloak tokens, and a reader of the `intake.case` topic on the real broker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from intake_topic import TOPIC, TopicReader

from haven_shared.kafka import ensure_topics
from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap
from intake.config import Settings

pytestmark = pytest.mark.infra


@pytest.fixture(scope="session")
def intake_db_url(stack: LocalStack) -> Iterator[str]:
    """A database of its own for this session (dropped afterwards)."""
    url = stack.create_database("intake_it")
    yield url
    stack.drop_database(url)


FIGURES = Path(__file__).resolve().parents[3] / ".run" / "intake-audit-figures.json"


@pytest.fixture(scope="session", autouse=True)
def audit_figures(intake_db_url: str) -> Iterator[None]:
    """After the session: how many audit entries intake's tests wrote, and how many served
    reads of a case carried a purpose of use (written to `.run/intake-audit-figures.json`)."""
    yield
    engine = sa.create_engine(intake_db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT action, outcome, purpose IS NOT NULL AS has_purpose, count(*) AS n "
                "FROM audit_entry WHERE object_type = 'case' OR object_type = 'organisation' "
                "GROUP BY 1, 2, 3")).all()
            total = conn.execute(sa.text("SELECT count(*) FROM audit_entry")).scalar_one()
    finally:
        engine.dispose()
    reads = [r for r in rows if r.action.endswith((".read", ".list"))
             and r.action != "case.list" and r.outcome == "success"]
    served = sum(r.n for r in reads)
    with_purpose = sum(r.n for r in reads if r.has_purpose)
    figures = {
        "entries": total,
        "by_outcome": {o: sum(r.n for r in rows if r.outcome == o)
                       for o in ("success", "denied", "failed")},
        "case_reads_served": served,
        "case_reads_with_purpose": with_purpose,
        "share_with_purpose": with_purpose / served if served else None,
        "reads_refused_without_purpose": sum(
            r.n for r in rows if r.action.endswith((".read", ".list"))
            and r.outcome == "denied" and not r.has_purpose),
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


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


@pytest.fixture(scope="session")
def topic(stack: LocalStack) -> Iterator[TopicReader]:
    ensure_topics(stack.kafka_bootstrap, {TOPIC: 6})
    reader = TopicReader.at_end(stack.kafka_bootstrap, TOPIC, client="intake-it")
    yield reader
    reader.close()
