"""Typed settings every service shares; each service subclasses them with its own env prefix.

Settings are read once at start-up (in `bootstrap`), never at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
        return self

    @property
    def jwks_url(self) -> str:
        return self.keycloak_jwks_url or f"{self.keycloak_issuer}/protocol/openid-connect/certs"

    @property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap.split(",") if s.strip()]
