"""Intake's tables and their migrations (Alembic, `services/intake/migrations`)."""

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


def intake_tables() -> list[sa.Table]:
    """Every table of the intake database."""
    tables = [CaseRow, PersonRecordRow, IdempotencyRow, ScreeningRow, NeedsAssessmentRow,
              ConsentRow, ReferralViewRow, MatchViewRow, OutboxMessage]
    return ([t.__table__ for t in tables]  # type: ignore[attr-defined]
            + [SUBJECT_KEY, INBOX, DEAD_LETTER, *audit_tables()])


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for intake, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def create_schema(engine: sa.Engine) -> None:
    """Bring the database to the newest migration.

    A database created by `create_all` before migrations existed is completed and stamped.
    """
    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        if inspector.has_table("intake_case") and not inspector.has_table("alembic_version"):
            SQLModel.metadata.create_all(conn, tables=intake_tables())
            command.stamp(alembic_config(conn), "head")
        command.upgrade(alembic_config(conn), "head")
