"""Haven's tamper-evident audit log: entries in the caller's transaction, a SHA-256 hash chain,
HMAC-signed checkpoints kept apart, a verifier, an auditor API and a CLI.

Services create the tables with `create_audit_tables(engine)` (or add `audit_tables()` to
their `create_all`), build one `AuditLog.from_settings(settings)` in bootstrap and call
`audit_log.append(uow.session, record)` before `uow.commit()` (or, with many concurrent
writers, `audit_log.enqueue(...)` before it and `audit_log.chain_after_commit(engine)` after:
see `haven_shared.audit.chain`).
"""

from haven_shared.audit.api import audit_router
from haven_shared.audit.chain import (
    AuditLog,
    Checkpoint,
    checkpoint_key,
    current_trace_id,
    load_checkpoints,
    record_for,
    sign_checkpoint,
)
from haven_shared.audit.checkpoints import CheckpointJob
from haven_shared.audit.model import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    audit_tables,
    create_audit_tables,
)
from haven_shared.audit.pending import append_at_commit, pending_count
from haven_shared.audit.purpose import PURPOSE_HEADER, PurposeOfUse, PurposeRequired, purpose_of_use
from haven_shared.audit.query import EntryFilter, find_entries
from haven_shared.audit.verify import VerificationResult, verify_chain

__all__ = [
    "PURPOSE_HEADER",
    "PurposeOfUse",
    "PurposeRequired",
    "purpose_of_use",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditLog",
    "AuditRecord",
    "Checkpoint",
    "CheckpointJob",
    "EntryFilter",
    "VerificationResult",
    "append_at_commit",
    "audit_router",
    "audit_tables",
    "checkpoint_key",
    "create_audit_tables",
    "current_trace_id",
    "find_entries",
    "load_checkpoints",
    "pending_count",
    "record_for",
    "sign_checkpoint",
    "verify_chain",
]
