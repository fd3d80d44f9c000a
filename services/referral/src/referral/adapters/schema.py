"""Referral's tables and their migrations (Alembic, `services/referral/migrations`).

Start-up brings the database to the newest revision under a PostgreSQL advisory lock, so
instances that start together migrate once; the others wait and find nothing left to do. A
database that `create_all` made before referral had migrations is completed and stamped.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config

from haven_shared.audit import audit_tables
from haven_shared.inbox import DEAD_LETTER, INBOX
from haven_shared.migrations import alembic_config as shared_alembic_config
from haven_shared.migrations import upgrade_to_head
from haven_shared.outbox import OutboxMessage
from referral.adapters.orm import (
    CaseConsentRow,
    DeadlineAlertRow,
    DeadlineRow,
    IdempotencyRow,
    PendingNeedRow,
    ProviderRow,
    ReferralRow,
)

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
#: Any constant shared by every referral instance (another service's lock is another number).
MIGRATION_LOCK = 7_301_002
#: A table every database of this service had before it had migrations.
MARKER_TABLE = "referral"


def referral_tables() -> list[sa.Table]:
    """Every table of the referral database."""
    tables = [ProviderRow, ReferralRow, DeadlineRow, DeadlineAlertRow, IdempotencyRow,
              CaseConsentRow, PendingNeedRow, OutboxMessage]
    return ([t.__table__ for t in tables]  # type: ignore[attr-defined]
            + [INBOX, DEAD_LETTER, *audit_tables()])


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for referral, optionally bound to an open connection."""
    return shared_alembic_config(MIGRATIONS, connection)


def create_schema(engine: sa.Engine) -> None:
    """Bring the database to the newest migration (see `haven_shared.migrations`)."""
    upgrade_to_head(engine, MIGRATIONS, lock_key=MIGRATION_LOCK,
                    marker_table=MARKER_TABLE, tables=referral_tables())
