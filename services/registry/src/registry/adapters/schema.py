"""The registry's tables and their migrations (Alembic, `services/registry/migrations`).

Start-up brings the database to the newest revision under a PostgreSQL advisory lock, so
instances that start together migrate once; the others wait and find nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import SQLModel

from haven_shared.audit import audit_tables
from haven_shared.crypto import SUBJECT_KEY
from haven_shared.inbox import DEAD_LETTER, INBOX
from haven_shared.outbox import OutboxMessage
from registry.adapters.notification_repository import NOTIFICATION_TABLES
from registry.adapters.person_tables import PERSON_INDEX_TABLES
from registry.adapters.tables import REGISTRY_TABLES

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
#: Any constant shared by every registry instance (another service's lock is another number).
MIGRATION_LOCK = 7_301_003


def registry_tables() -> list[sa.Table]:
    """Every table of the registry database."""
    return [
        *REGISTRY_TABLES,
        *PERSON_INDEX_TABLES,
        *NOTIFICATION_TABLES,
        OutboxMessage.__table__,  # type: ignore[attr-defined]
        SUBJECT_KEY,
        INBOX,
        DEAD_LETTER,
        *audit_tables(),
    ]


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for the registry, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def create_schema(engine: sa.Engine) -> None:
    """Bring the database to the newest migration.

    A database that `create_all` made before the registry had migrations is completed
    (missing tables only, as the models stand) and stamped as migrated.
    """
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            # Transaction-scoped: released by this block's commit (or rollback).
            conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        inspector = sa.inspect(conn)
        if inspector.has_table("directory_organisation") and not inspector.has_table(
            "alembic_version"
        ):
            SQLModel.metadata.create_all(conn, tables=registry_tables())
            command.stamp(alembic_config(conn), "head")
        command.upgrade(alembic_config(conn), "head")
