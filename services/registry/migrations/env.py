"""Alembic environment of the registry database: `haven_shared.migrations.run_env` with the
registry service's tables, migration lock and settings (REGISTRY_DATABASE_URL)."""

from __future__ import annotations

from haven_shared.migrations import run_env
from registry.adapters.schema import MIGRATION_LOCK, registry_tables


def _database_url() -> str:
    from registry.config import Settings

    return Settings().database_url


run_env(registry_tables(), MIGRATION_LOCK, _database_url)
