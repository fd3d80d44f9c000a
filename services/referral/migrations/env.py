"""Alembic environment of the referral database: `haven_shared.migrations.run_env` with the
referral service's tables, migration lock and settings (REFERRAL_DATABASE_URL)."""

from __future__ import annotations

from haven_shared.migrations import run_env
from referral.adapters.schema import MIGRATION_LOCK, referral_tables


def _database_url() -> str:
    from referral.config import Settings

    return Settings().database_url


run_env(referral_tables(), MIGRATION_LOCK, _database_url)
