"""Intake's unit of work: the shared one (state + outbox in one commit) plus repositories."""

from __future__ import annotations

from typing import Self

import sqlalchemy as sa

from haven_shared.crypto import SubjectKeyring
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
from intake.adapters.repository import CaseRepository, IdempotencyRepository, RecordRepository
from intake.adapters.support_repository import (
    ConsentRepository,
    NeedsRepository,
    ScreeningRepository,
)


class IntakeUnitOfWork(UnitOfWork):
    """One transaction over intake's repositories; only `commit()` commits."""

    cases: CaseRepository
    records: RecordRepository
    idempotency: IdempotencyRepository
    screenings: ScreeningRepository
    needs: NeedsRepository
    consents: ConsentRepository

    def __init__(self, engine: sa.Engine, keyring: SubjectKeyring,
                 outbox: Outbox | None = None) -> None:
        super().__init__(engine, outbox or Outbox(source="/haven/intake"))
        self.keyring = keyring

    def __enter__(self) -> Self:
        super().__enter__()
        self.cases = CaseRepository(self.session, self.keyring)
        self.records = RecordRepository(self.session, self.keyring)
        self.idempotency = IdempotencyRepository(self.session)
        self.screenings = ScreeningRepository(self.session, self.keyring)
        self.needs = NeedsRepository(self.session, self.keyring)
        self.consents = ConsentRepository(self.session, self.keyring)
        return self
