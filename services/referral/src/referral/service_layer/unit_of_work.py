"""Referral's unit of work: the shared one (state + outbox in one commit) plus repositories and
the action's audit entries, appended last by the same commit."""

from __future__ import annotations

from typing import Self

import sqlalchemy as sa

from haven_shared.audit import AuditLog, AuditRecord, append_at_commit
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
from referral.adapters.repository import (
    IdempotencyRepository,
    ProviderRepository,
    ReferralRepository,
)
from referral.service_layer.audit import require

SOURCE = "/haven/referral"


class ReferralUnitOfWork(UnitOfWork):
    """One transaction over referral's repositories; only `commit()` commits."""

    referrals: ReferralRepository
    providers: ProviderRepository
    idempotency: IdempotencyRepository

    def __init__(self, engine: sa.Engine, outbox: Outbox | None = None,
                 audit: AuditLog | None = None) -> None:
        super().__init__(engine, outbox or Outbox(source=SOURCE))
        self.audit_log = audit

    def __enter__(self) -> Self:
        super().__enter__()
        self.referrals = ReferralRepository(self.session)
        self.providers = ProviderRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        return self

    def audit(self, record: AuditRecord) -> None:
        """Queue an audit entry; `commit()` appends it in this transaction (a rollback drops
        it)."""
        append_at_commit(require(self.audit_log), self.session, record)
