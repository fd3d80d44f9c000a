"""How a service connects to the broker is a setting: PLAINTEXT for loopback dev, OAUTHBEARER else."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from haven_shared.settings import ServiceSettings


def test_plaintext_needs_no_options() -> None:
    assert ServiceSettings(service_name="intake").kafka_security == {}


def test_sasl_uses_the_services_own_client_and_one_token_provider_per_process() -> None:
    s = ServiceSettings(service_name="registry", kafka_security_protocol="SASL_PLAINTEXT",
                        kafka_client_secret="s3cret",
                        keycloak_issuer="http://127.0.0.1:1/realms/haven")
    first, second = s.kafka_security, s.kafka_security
    assert first["security_protocol"] == "SASL_PLAINTEXT"
    assert first["sasl_mechanism"] == "OAUTHBEARER"
    assert first["sasl_oauth_token_provider"] is second["sasl_oauth_token_provider"]
    provider = first["sasl_oauth_token_provider"]
    assert provider._auth == ("registry", "s3cret")
    assert provider._url == "http://127.0.0.1:1/realms/haven/protocol/openid-connect/token"


def test_sasl_without_a_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="kafka_client_secret"):
        ServiceSettings(kafka_security_protocol="SASL_PLAINTEXT")


def test_production_refuses_an_unauthenticated_broker_connection() -> None:
    with pytest.raises(ValidationError, match="authenticated Kafka"):
        ServiceSettings(environment="production", master_key="a-real-secret",
                        database_url="postgresql://h/db")
    ok = ServiceSettings(environment="production", master_key="a-real-secret",
                         database_url="postgresql://h/db", kafka_security_protocol="SASL_SSL",
                         kafka_client_secret="x")
    assert ok.kafka_security["security_protocol"] == "SASL_SSL"
