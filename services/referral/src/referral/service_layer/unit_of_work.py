"""Referral's unit of work: the shared one (state + outbox in one commit) plus repositories."""

from __future__ import annotations

from typing import Self

import sqlalchemy as sa

from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
from referral.adapters.repository import (
    IdempotencyRepository,
    ProviderRepository,
    ReferralRepository,
)

SOURCE = "/haven/referral"


class ReferralUnitOfWork(UnitOfWork):
    """One transaction over referral's repositories; only `commit()` commits."""

    referrals: ReferralRepository
    providers: ProviderRepository
    idempotency: IdempotencyRepository

    def __init__(self, engine: sa.Engine, outbox: Outbox | None = None) -> None:
        super().__init__(engine, outbox or Outbox(source=SOURCE))

    def __enter__(self) -> Self:
        super().__enter__()
        self.referrals = ReferralRepository(self.session)
        self.providers = ProviderRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        return self
