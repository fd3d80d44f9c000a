"""Entries queued on a session and appended when its transaction commits.

A handler that does not own the commit (an inbox handler: the consumer commits the batch) still
writes its entries in the action's transaction:

    def handle(event, uow):
        ...                                                   # the effect
        append_at_commit(audit_log, uow.session, record)      # appended by the commit itself

The entries are appended by the session's `before_commit` hook, after everything else the
transaction did, so the chain head is locked last and only for the commit itself (a batch of
events sharing one transaction does not hold the head while it locks the rows of the next
event). A rollback of the transaction forgets them. Queue outside savepoints: an entry queued
inside a savepoint that is rolled back would still be appended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from haven_shared.audit.model import AuditRecord

if TYPE_CHECKING:
    from haven_shared.audit.chain import AuditLog

_KEY = "haven.audit.pending"


def append_at_commit(log: AuditLog, session: Session, record: AuditRecord) -> None:
    """Queue `record` on `session`; its transaction's commit appends it to `log`'s chain."""
    pending: list[tuple[AuditLog, AuditRecord]] | None = session.info.get(_KEY)
    if pending is None:
        pending = session.info[_KEY] = []
        event.listen(session, "before_commit", _append_pending)
        event.listen(session, "after_soft_rollback", _forget_pending)
    pending.append((log, record))


def pending_count(session: Session) -> int:
    """How many entries wait for the session's commit."""
    return len(session.info.get(_KEY) or [])


def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release, not the commit of the transaction
    pending: list[tuple[AuditLog, AuditRecord]] = session.info.get(_KEY) or []
    while pending:
        log, record = pending.pop(0)
        log.append(session, record)


def _forget_pending(session: Session, previous: SessionTransaction, *_: Any) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint
        pending = session.info.get(_KEY)
        if pending:
            pending.clear()
