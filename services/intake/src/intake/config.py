"""Settings of the intake service (environment variables prefixed INTAKE_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from haven_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    service_name: str = "intake"
    # Run the outbox relay inside the API process (the simple local setup); turn off when
    # `python -m intake.worker` runs separately.
    embedded_worker: bool = True
    # Partitions of the topics intake produces (and of consumed ones it finds missing), created
    # at start-up; the same default as the other services.
    topic_partitions: int = Field(default=3, ge=1)
    # Consumer group of the outcome consumer (referral states, match results).
    outcome_consumer_group: str = "intake-outcomes"
    # Secret shared with the registry only: seals the matching-only part of tracing records.
    matching_key: SecretStr = SecretStr("development-only-matching-key-change-me")
