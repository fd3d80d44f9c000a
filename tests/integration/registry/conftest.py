"""Fixtures for the registry's integration tests: the app against the real stack, and tokens."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from haven_shared.testing.stack import LocalStack
from registry.bootstrap import bootstrap
from registry.config import Settings

# The HSDS schema helper lives with the unit tests; both suites use it.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "registry"))



def registry_settings(stack: LocalStack, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": stack.database_url("registry"),
        "kafka_bootstrap": stack.kafka_bootstrap,
        "keycloak_issuer": stack.issuer,
        "jwt_leeway_seconds": 0,
        "relay_idle_seconds": 0.05,
        # The person index's consumer runs only where a test asks for it (tracing e2e).
        "index_consumer_enabled": False,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def registry(stack: LocalStack) -> Iterator[TestClient]:
    """The registry app on the stack's registry database, relaying its outbox to Kafka."""
    with TestClient(bootstrap(registry_settings(stack))) as client:
        yield client


@pytest.fixture(scope="session")
def auth(stack: LocalStack) -> Callable[[str], dict[str, str]]:
    """Authorization headers of a realm user (dora: directory_admin, ana: caseworker, ...)."""

    @cache
    def headers(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {stack.password_token(username)}"}

    return headers


@pytest.fixture
def empty_registry(stack: LocalStack) -> Iterator[TestClient]:
    """A second registry app on a database of its own (dropped afterwards), not relaying."""
    url = stack.create_database("registry")
    app = bootstrap(registry_settings(stack, database_url=url, relay_enabled=False))
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.engine.dispose()
        stack.drop_database(url)
