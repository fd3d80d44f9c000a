"""Intake's unit of work: the shared one (state + outbox in one commit) plus repositories and
the audit entries of the action, appended last in the same commit."""

from __future__ import annotations

from typing import Self

import sqlalchemy as sa

from haven_shared.audit import AuditLog, AuditRecord
from haven_shared.crypto import SubjectKeyring
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
from intake.adapters.repository import CaseRepository, IdempotencyRepository, RecordRepository
from intake.adapters.support_repository import (
    ConsentRepository,
    NeedsRepository,
    ScreeningRepository,
)


class AuditLogMissing(RuntimeError):
    """An action was to be audited but no audit log is wired: refuse rather than lose it."""


class IntakeUnitOfWork(UnitOfWork):
    """One transaction over intake's repositories; only `commit()` commits."""

    cases: CaseRepository
    records: RecordRepository
    idempotency: IdempotencyRepository
    screenings: ScreeningRepository
    needs: NeedsRepository
    consents: ConsentRepository

    def __init__(self, engine: sa.Engine, keyring: SubjectKeyring,
                 outbox: Outbox | None = None, audit: AuditLog | None = None) -> None:
        super().__init__(engine, outbox or Outbox(source="/haven/intake"))
        self.keyring = keyring
        self.audit_log = audit
        self._entries: list[AuditRecord] = []

    def __enter__(self) -> Self:
        super().__enter__()
        self._entries = []
        self.cases = CaseRepository(self.session, self.keyring)
        self.records = RecordRepository(self.session, self.keyring)
        self.idempotency = IdempotencyRepository(self.session)
        self.screenings = ScreeningRepository(self.session, self.keyring)
        self.needs = NeedsRepository(self.session, self.keyring)
        self.consents = ConsentRepository(self.session, self.keyring)
        return self

    def audit(self, record: AuditRecord) -> None:
        """Queue an audit entry; `commit()` appends it in this transaction."""
        self._entries.append(record)

    def commit(self) -> None:
        """Outbox rows, then the audit entries (last: they lock the chain head), one commit."""
        self.flush_events()
        if self._entries:
            log = self._require_log()
            for record in self._entries:
                log.append(self.session, record)
            self._entries.clear()
        self.session.commit()

    def rollback(self) -> None:
        """Discard the transaction, its events and its queued audit entries."""
        self._entries.clear()
        super().rollback()

    def record_apart(self, record: AuditRecord) -> None:
        """Append and commit an entry in a transaction of its own (refusals, failures);
        call it only after this unit of work's own transaction has ended."""
        self._require_log().append_committed(self.engine, record)

    def _require_log(self) -> AuditLog:
        if self.audit_log is None:
            raise AuditLogMissing("intake's unit of work has no audit log")
        return self.audit_log

