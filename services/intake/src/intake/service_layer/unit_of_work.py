"""Intake's unit of work: the shared one (state + outbox in one commit) plus repositories and
the audit entries of the action, queued in the same commit and linked into the chain after it."""

from __future__ import annotations

import logging
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

_log = logging.getLogger(__name__)


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
        """Outbox rows and the queued audit entries in one commit, then the entries linked into
        the chain.

        The entries are queued (`AuditLog.enqueue`), not appended: appending locks the chain
        head until the commit, which made every audited request of the service wait for the
        one before it to commit. After the commit a chaining pass links them, one pass (one
        head lock, one commit) for all the requests that committed meanwhile. A failed pass
        does not undo the action: the entries stay queued for the next pass.
        """
        self.flush_events()
        log = None
        if self._entries:
            log = self._require_log()
            for record in self._entries:
                log.enqueue(self.session, record)
            self._entries.clear()
        self.session.commit()
        if log is not None:
            try:
                log.chain_after_commit(self.engine)
            except Exception as exc:  # noqa: BLE001 - committed; the next pass links them
                _log.warning("audit entries stay queued: chaining failed (%s)",
                             type(exc).__name__)

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

