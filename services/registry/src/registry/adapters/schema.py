"""The registry's tables and their migrations (Alembic, `services/registry/migrations`).

Start-up brings the database to the newest revision under a PostgreSQL advisory lock, so
instances that start together migrate once; the others wait and find nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config

from haven_shared.audit import audit_tables
from haven_shared.crypto import SUBJECT_KEY
from haven_shared.inbox import DEAD_LETTER, INBOX
from haven_shared.migrations import alembic_config as shared_alembic_config
from haven_shared.migrations import upgrade_to_head
from haven_shared.outbox import OutboxMessage
from registry.adapters.notification_repository import NOTIFICATION_TABLES
from registry.adapters.person_tables import PERSON_INDEX_TABLES
from registry.adapters.tables import REGISTRY_TABLES

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
#: Any constant shared by every registry instance (another service's lock is another number).
MIGRATION_LOCK = 7_301_003
#: A table every database of this service had before it had migrations.
MARKER_TABLE = "directory_organisation"


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
    return shared_alembic_config(MIGRATIONS, connection)


def create_schema(engine: sa.Engine) -> None:
    """Bring the database to the newest migration (see `haven_shared.migrations`)."""
    upgrade_to_head(engine, MIGRATIONS, lock_key=MIGRATION_LOCK,
                    marker_table=MARKER_TABLE, tables=registry_tables())
