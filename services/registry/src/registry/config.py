"""Settings of the registry service (environment variables prefixed REGISTRY_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from haven_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", frozen=True)

    service_name: str = "registry"
