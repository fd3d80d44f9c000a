"""Alembic environment of the intake database: `haven_shared.migrations.run_env` with the
intake service's tables, migration lock and settings (INTAKE_DATABASE_URL)."""

from __future__ import annotations

from haven_shared.migrations import run_env
from intake.adapters.schema import MIGRATION_LOCK, intake_tables


def _database_url() -> str:
    from intake.config import Settings

    return Settings().database_url


run_env(intake_tables(), MIGRATION_LOCK, _database_url)
