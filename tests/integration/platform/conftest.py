"""Fixtures for the platform tests: the three service apps wired to the real stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap as intake_app
from intake.config import Settings as IntakeSettings
from referral.bootstrap import bootstrap as referral_app
from referral.config import Settings as ReferralSettings
from registry.bootstrap import bootstrap as registry_app
from registry.config import Settings as RegistrySettings

APPS = {
    "intake": (intake_app, IntakeSettings),
    "referral": (referral_app, ReferralSettings),
    "registry": (registry_app, RegistrySettings),
}


def service_settings(stack: LocalStack, service: str, **overrides: object):  # type: ignore[no-untyped-def]
    _, settings_cls = APPS[service]
    values = {
        "environment": "test",
        "database_url": stack.database_url(service),
        "kafka_bootstrap": stack.kafka_bootstrap,
        "keycloak_issuer": stack.issuer,
        "jwt_leeway_seconds": 0,
        **overrides,
    }
    return settings_cls(**values)


@pytest.fixture(scope="session")
def make_client(stack: LocalStack):  # type: ignore[no-untyped-def]
    """A function that builds a TestClient of one service against the real stack."""

    def make(service: str, **overrides: object) -> TestClient:
        make_app, _ = APPS[service]
        return TestClient(make_app(service_settings(stack, service, **overrides)))

    return make


@pytest.fixture(scope="session", params=sorted(APPS))
def service_client(request: pytest.FixtureRequest, stack: LocalStack) -> Iterator[TestClient]:
    """A client of each service in turn, configured against the real stack."""
    make_app, _ = APPS[request.param]
    with TestClient(make_app(service_settings(stack, request.param))) as client:
        yield client
