"""Creates intake's tables at start-up (no migrations yet: `create_all` is idempotent)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

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


def intake_tables() -> list[sa.Table]:
    """Every table of the intake database."""
    tables = [CaseRow, PersonRecordRow, IdempotencyRow, ScreeningRow, NeedsAssessmentRow,
              ConsentRow, ReferralViewRow, MatchViewRow, OutboxMessage]
    return [t.__table__ for t in tables] + [SUBJECT_KEY, INBOX, DEAD_LETTER]  # type: ignore[attr-defined]


def create_schema(engine: sa.Engine) -> None:
    """Create the tables that do not exist yet."""
    SQLModel.metadata.create_all(engine, tables=intake_tables())
