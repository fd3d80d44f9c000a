"""Settings of the referral service (environment variables prefixed REFERRAL_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from haven_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore", frozen=True)

    service_name: str = "referral"
