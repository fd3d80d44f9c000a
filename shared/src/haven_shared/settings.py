"""Typed settings every service shares; each service subclasses them with its own env prefix.

Settings are read once at start-up (in `bootstrap`), never at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]
DEV_MASTER_KEY = "development-only-master-key-change-me"


class ServiceSettings(BaseSettings):
    """Settings common to intake, referral and registry (env prefix set by each subclass)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = "haven"
    environment: Environment = "development"
    database_url: str = ""
    kafka_bootstrap: str = "127.0.0.1:9092"
    # How long the group coordinator waits for a silent consumer before handing its partitions
    # to another member (a process killed without leaving the group holds them until then), and
    # how often a consumer says it is alive (well under a third of the session timeout).
    kafka_session_timeout_ms: int = Field(default=45_000, ge=6_000, le=300_000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=500)
    # How the service authenticates to the broker: PLAINTEXT on a loopback dev broker, or
    # SASL/OAUTHBEARER with a client-credentials token of the service's own Keycloak client
    # (the broker's ACLs name that client: `User:<kafka_client_id>`).
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_client_id: str = ""
    kafka_client_secret: SecretStr = SecretStr("")
    # Where the token comes from; empty means the issuer's own token endpoint.
    kafka_token_url: str = ""
    # The issuer must match the `iss` of tokens exactly, so always address Keycloak the same way.
    keycloak_issuer: str = "http://127.0.0.1:8080/realms/haven"
    # Where to fetch the realm's keys when the issuer's address is not reachable from here
    # (e.g. inside docker-compose); empty means the issuer's own certs endpoint.
    keycloak_jwks_url: str = ""
    # Audience this service accepts; defaults to the service name (one Keycloak client each).
    audience: str = ""
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwks_cache_seconds: int = Field(default=300, ge=10)
    http_timeout_seconds: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    master_key: SecretStr = SecretStr(DEV_MASTER_KEY)
    # Seconds between signed checkpoints of the audit chain's head (when it moved); 0: only
    # the count-based ones. With a file, new checkpoints are also appended there (keep it on
    # storage the database's writers cannot change).
    audit_checkpoint_interval_seconds: float = Field(default=300, ge=0)
    audit_checkpoints_file: str | None = None
    telemetry_exporter: Literal["none", "console", "otlp", "file"] = "none"
    telemetry_file: str = ""

    @model_validator(mode="after")
    def _defaults_and_production_guard(self) -> ServiceSettings:
        if not self.audience:
            object.__setattr__(self, "audience", self.service_name)
        if not self.database_url:
            path = Path(".run") / "dev" / f"{self.service_name}.db"
            object.__setattr__(self, "database_url", f"sqlite:///{path}")
        if self.environment == "production":
            if self.master_key.get_secret_value() == DEV_MASTER_KEY:
                raise ValueError("master_key must be set to a real secret in production")
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs PostgreSQL, not SQLite")
        if not self.kafka_client_id:
            object.__setattr__(self, "kafka_client_id", self.service_name)
        if (self.kafka_security_protocol != "PLAINTEXT"
                and not self.kafka_client_secret.get_secret_value()):
            raise ValueError("kafka_client_secret is required with kafka_security_protocol "
                             f"{self.kafka_security_protocol}")
        if self.environment == "production" and self.kafka_security_protocol == "PLAINTEXT":
            raise ValueError("production needs an authenticated Kafka connection "
                             "(kafka_security_protocol SASL_PLAINTEXT or SASL_SSL)")
        if self.kafka_heartbeat_interval_ms * 3 > self.kafka_session_timeout_ms:
            raise ValueError("kafka_heartbeat_interval_ms must be at most a third of "
                             "kafka_session_timeout_ms")
        return self

    @property
    def jwks_url(self) -> str:
        return self.keycloak_jwks_url or f"{self.keycloak_issuer}/protocol/openid-connect/certs"

    @property
    def kafka_consumer_options(self) -> dict[str, int]:
        """Group membership options for `make_consumer`."""
        return {"session_timeout_ms": self.kafka_session_timeout_ms,
                "heartbeat_interval_ms": self.kafka_heartbeat_interval_ms}

    @property
    def kafka_security(self) -> dict[str, Any]:
        """kafka-python connection options for `make_producer/make_consumer/ensure_topics`
        (empty on PLAINTEXT); one token provider per client id and process."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        from haven_shared.kafka_auth import shared_provider  # noqa: PLC0415 - only when secured

        token_url = self.kafka_token_url or (
            f"{self.keycloak_issuer}/protocol/openid-connect/token")
        provider = shared_provider(token_url, self.kafka_client_id,
                                   self.kafka_client_secret.get_secret_value())
        return {"security_protocol": self.kafka_security_protocol,
                "sasl_mechanism": "OAUTHBEARER", "sasl_oauth_token_provider": provider}

    @property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap.split(",") if s.strip()]
