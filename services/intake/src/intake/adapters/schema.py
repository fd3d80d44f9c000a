"""Intake's tables and their migrations (Alembic, `services/intake/migrations`), applied at
start-up under an advisory lock."""

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
from intake.adapters.orm import (
    CaseRow,
    ConsentRow,
    IdempotencyRow,
    MatchViewRow,
    NeedsAssessmentRow,
    PersonRecordRow,
    ReferralViewRow,
    ScreeningRow,
)

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
#: Any constant shared by every intake instance (another service's lock is another number).
MIGRATION_LOCK = 7_301_001
#: A table every database of this service had before it had migrations.
MARKER_TABLE = "intake_case"


def intake_tables() -> list[sa.Table]:
    """Every table of the intake database."""
    tables = [CaseRow, PersonRecordRow, IdempotencyRow, ScreeningRow, NeedsAssessmentRow,
              ConsentRow, ReferralViewRow, MatchViewRow, OutboxMessage]
    return ([t.__table__ for t in tables]  # type: ignore[attr-defined]
            + [SUBJECT_KEY, INBOX, DEAD_LETTER, *audit_tables()])


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for intake, optionally bound to an open connection."""
    return shared_alembic_config(MIGRATIONS, connection)


def create_schema(engine: sa.Engine) -> None:
    """Bring the database to the newest migration (see `haven_shared.migrations`)."""
    upgrade_to_head(engine, MIGRATIONS, lock_key=MIGRATION_LOCK, marker_table=MARKER_TABLE,
                    tables=intake_tables())
