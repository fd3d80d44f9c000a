"""Creates referral's tables at start-up (no migrations yet: `create_all` is idempotent),
the audit log's included."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from haven_shared.audit import audit_tables, create_audit_tables
from haven_shared.inbox import DEAD_LETTER, INBOX
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


def referral_tables() -> list[sa.Table]:
    """Every table of the referral database."""
    tables = [ProviderRow, ReferralRow, DeadlineRow, DeadlineAlertRow, IdempotencyRow,
              CaseConsentRow, PendingNeedRow, OutboxMessage]
    return ([t.__table__ for t in tables]  # type: ignore[attr-defined]
            + [INBOX, DEAD_LETTER, *audit_tables()])


def create_schema(engine: sa.Engine) -> None:
    """Create the tables that do not exist yet."""
    SQLModel.metadata.create_all(engine, tables=referral_tables())
    create_audit_tables(engine)  # and the chain's head row
