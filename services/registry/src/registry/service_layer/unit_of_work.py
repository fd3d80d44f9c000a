"""The registry's unit of work: the shared one (state + outbox in one commit) plus the audit
entries of the action, appended last, in the same commit."""

from __future__ import annotations

from typing import Self

import sqlalchemy as sa

from haven_shared.audit import AuditLog, AuditRecord
from haven_shared.outbox import Outbox
from haven_shared.uow import Translate, UnitOfWork


class RegistryUnitOfWork(UnitOfWork):
    """One transaction of a registry use case; only `commit()` commits.

    Without an audit log (unit tests of the rules) queued entries are dropped: the service's
    bootstrap always wires one, and the audit tests check that entries arrive.
    """

    def __init__(self, engine: sa.Engine, outbox: Outbox, *, translate: Translate,
                 audit: AuditLog | None = None) -> None:
        super().__init__(engine, outbox, translate=translate)
        self.audit_log = audit
        self._entries: list[AuditRecord] = []

    def __enter__(self) -> Self:
        super().__enter__()
        self._entries = []
        return self

    def audit(self, record: AuditRecord) -> None:
        """Queue an audit entry; `commit()` appends it in this transaction."""
        self._entries.append(record)

    def commit(self) -> None:
        """Outbox rows, then the audit entries (last: they lock the chain head), one commit."""
        self.flush_events()
        if self.audit_log is not None:
            for record in self._entries:
                self.audit_log.append(self.session, record)
        self._entries.clear()
        self.session.commit()

    def rollback(self) -> None:
        """Discard the transaction, its events and its queued audit entries."""
        self._entries.clear()
        super().rollback()

    def record_apart(self, record: AuditRecord) -> None:
        """Append and commit an entry in a transaction of its own (refusals, failures); only
        after this unit of work's own transaction has ended."""
        if self.audit_log is not None:
            self.audit_log.append_committed(self.engine, record)
