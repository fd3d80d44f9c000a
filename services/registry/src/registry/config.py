"""Settings of the registry service (environment variables prefixed REGISTRY_)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from haven_shared.settings import ServiceSettings

DEV_MATCHING_KEY = "development-only-matching-key-change-me"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", frozen=True)

    service_name: str = "registry"
    # Publish the outbox from the API process (a separate worker can take over later).
    relay_enabled: bool = True
    relay_idle_seconds: float = Field(default=0.2, gt=0)
    # Partitions of the topics registry produces, created at start-up when missing.
    topic_partitions: int = Field(default=3, ge=1)
    # Candidates at or above this match probability are proposed for review.
    review_threshold: float = Field(default=0.5, gt=0, le=1)
    # Run the person-index consumer of intake's tracing events inside the API process.
    index_consumer_enabled: bool = True
    index_consumer_group: str = "registry-person-index"
    # Secret shared with intake only: signs the requests for record subjects' matching keys
    # (and opens the matching parts of the earlier construction).
    matching_key: SecretStr = SecretStr(DEV_MATCHING_KEY)
    # Where intake answers those requests (`GET /internal/matching-keys/{key_id}`).
    intake_url: str = "http://127.0.0.1:8001"

    @model_validator(mode="after")
    def _real_matching_key_in_production(self) -> Settings:
        if (self.environment == "production"
                and self.matching_key.get_secret_value() == DEV_MATCHING_KEY):
            raise ValueError("matching_key must be set to a real secret in production")
        return self
