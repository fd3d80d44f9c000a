"""Appending to the audit chain inside the caller's transaction, and signing checkpoints.

    audit = AuditLog.from_settings(settings)              # once, in bootstrap
    with UnitOfWork(engine, outbox) as uow:
        ...                                               # the action itself
        audit.append(uow.session, AuditRecord(...))       # same transaction
        uow.commit()                                      # action and entry commit together

The chain head (one row) is updated *first* in `append`: on PostgreSQL the update locks the row
until the caller's transaction ends, so concurrent appenders queue and each sees the head its
predecessor committed; on SQLite the update takes the database's write lock. A rollback of the
caller's transaction undoes the head update too, so no sequence number is lost.

Append last, just before the commit: the head stays locked until the transaction ends, so the
shorter that is the less appenders wait, and taking the head lock after every other lock keeps
it out of deadlock cycles. A refused or failed action, whose transaction is rolled back, is
recorded with `append_committed` in a transaction of its own.

**Queued appends (group chaining).** Holding the head from the append to the commit serialises
every audited transaction of the service, its commit (a WAL flush) included. A service with
many concurrent writers queues the entry instead and links it after its commit:

    audit.enqueue(uow.session, AuditRecord(...))          # same transaction, locks nothing
    uow.commit()                                          # action and queued entry together
    audit.chain_after_commit(engine)                      # linked into the chain, in batches

`enqueue` writes the entry to `audit_pending` in the caller's transaction, so the action and
its entry still commit together or not at all. `chain_pending` moves every queued entry into
the chain under the head lock in one transaction (sequence numbers and hashes as `append` gives
them), so one lock and one commit serve all the entries that were queued meanwhile;
`chain_after_commit` returns once a pass that began after the caller's commit has finished
(group commit: a caller whose entry another thread's pass already linked does not run one). An
entry whose linking failed (database away, process killed) stays queued and the next pass (any
caller's, or the checkpoint job's tick) links it; the verifier counts the queued entries.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from hashlib import sha256
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from opentelemetry import trace
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haven_shared.audit.model import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    as_utc,
    audit_checkpoint_table,
    audit_entry_table,
    audit_head_table,
    audit_pending_table,
    canonical_json,
    format_time,
    join_roles,
    now_utc,
    split_roles,
)
from haven_shared.auth import Principal
from haven_shared.settings import ServiceSettings

_KDF_INFO = b"haven/audit-checkpoint/v1"


def checkpoint_key(master_key: str) -> bytes:
    """The checkpoint signing key, derived from the service's master key (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"haven-audit",
                info=_KDF_INFO).derive(master_key.encode("utf-8"))


def key_id(key: bytes) -> str:
    """A short, non-secret name of a key, so a rotated key is recognisable."""
    return sha256(b"haven-audit-key-id" + key).hexdigest()[:16]


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: in `service`, entry `seq` had hash `entry_hash`."""

    service: str
    seq: int
    entry_hash: str
    signed_at: datetime
    key_id: str
    signature: str

    def message(self) -> bytes:
        return canonical_json({"service": self.service, "seq": self.seq,
                               "entry_hash": self.entry_hash,
                               "signed_at": format_time(self.signed_at), "key_id": self.key_id})

    def signature_valid(self, key: bytes) -> bool:
        expected = hmac.new(key, self.message(), sha256).hexdigest()
        return hmac.compare_digest(expected, self.signature)

    def as_json(self) -> dict[str, Any]:
        return {"service": self.service, "seq": self.seq, "entry_hash": self.entry_hash,
                "signed_at": format_time(self.signed_at), "key_id": self.key_id,
                "signature": self.signature}


def sign_checkpoint(key: bytes, service: str, seq: int, entry_hash: str,
                    signed_at: datetime) -> Checkpoint:
    """A checkpoint of (seq, entry_hash) signed with HMAC-SHA256 under `key`."""
    unsigned = Checkpoint(service, seq, entry_hash, signed_at, key_id(key), "")
    signature = hmac.new(key, unsigned.message(), sha256).hexdigest()
    return Checkpoint(service, seq, entry_hash, signed_at, unsigned.key_id, signature)


def current_trace_id() -> str | None:
    """The trace id of the active OpenTelemetry span, as 32 hex digits, if there is one."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def record_for(principal: Principal, *, action: str, object_type: str, object_id: str,
               purpose: str | None = None, outcome: str = "success",
               trace_id: str | None = None) -> AuditRecord:
    """An audit record of `principal` acting on an object, under the current trace."""
    return AuditRecord.model_validate({
        "actor": principal.subject, "roles": tuple(sorted(principal.roles)),
        "organisation": principal.org, "purpose": purpose, "action": action,
        "object_type": object_type, "object_id": object_id, "outcome": outcome,
        "trace_id": trace_id or current_trace_id(),
    })


class AuditLog:
    """A service's audit chain: appends entries and signs checkpoints every `checkpoint_every`."""

    def __init__(self, service: str, signing_key: bytes, *, checkpoint_every: int = 100,
                 clock: Callable[[], datetime] = now_utc) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self.service = service
        self.signing_key = signing_key
        self.checkpoint_every = checkpoint_every
        self.clock = clock
        # Group chaining: passes run one at a time; a caller is covered by any pass that
        # began after its commit (`chain_after_commit`).
        self._chain_lock = threading.Lock()
        self._passes_begun = 0
        self._passes_done = 0

    @classmethod
    def from_settings(cls, settings: ServiceSettings, *, checkpoint_every: int = 100
                      ) -> AuditLog:
        """The audit log of the service `settings` describe, keyed from its master key."""
        key = checkpoint_key(settings.master_key.get_secret_value())
        return cls(settings.service_name, key, checkpoint_every=checkpoint_every)

    def append(self, session: Session, record: AuditRecord) -> AuditEntry:
        """Add an entry to the chain in the session's transaction (never commits)."""
        seq, prev_hash = _advance_head(session)
        entry = self._entry(seq, prev_hash, self.clock(), record.actor, record.roles,
                            record.organisation, record.purpose, record.action,
                            record.object_type, record.object_id, record.outcome,
                            record.trace_id)
        _store_entry(session, _entry_values(entry), entry.entry_hash)
        if seq % self.checkpoint_every == 0:
            self._store_checkpoint(session, seq, entry.entry_hash)
        return entry

    def enqueue(self, session: Session, record: AuditRecord) -> None:
        """Queue an entry in the session's transaction (never commits, locks nothing); a
        chaining pass after the commit links it (`chain_after_commit`, `chain_pending`)."""
        session.execute(_ENQUEUE, {
            "occurred_at": self.clock(), "actor": record.actor,
            "roles": join_roles(record.roles), "organisation": record.organisation,
            "purpose": record.purpose, "action": record.action,
            "object_type": record.object_type, "object_id": record.object_id,
            "outcome": record.outcome, "trace_id": record.trace_id})

    def chain_after_commit(self, engine: sa.Engine) -> None:
        """Link the entries the caller queued and committed: returns once a chaining pass that
        began after the call has finished (this thread's, or one another thread ran
        meanwhile). Raises when the pass fails; the entries then stay queued."""
        ticket = self._passes_begun
        with self._chain_lock:
            if self._passes_done > ticket:
                return  # a pass that began after our commit linked our entries
            self._passes_begun += 1
            number = self._passes_begun
            self.chain_pending(engine)
            self._passes_done = number

    def chain_pending(self, engine: sa.Engine, *, batch: int = 500) -> int:
        """Link every queued entry into the chain (`batch` per transaction); how many."""
        linked = 0
        while True:
            n = self._chain_batch(engine, batch)
            linked += n
            if n < batch:
                return linked

    def _chain_batch(self, engine: sa.Engine, limit: int) -> int:
        with Session(engine) as session:
            if session.get_bind().dialect.name == "postgresql":
                linked = self._chain_batch_pg(session, limit)
                if linked is not None:
                    return linked
                session.rollback()  # another process's pass got there first: the long way
            seq, prev_hash = _advance_head(session, step=0)  # the head lock, nothing moved
            rows = _queued(session, limit)
            if not rows:
                session.rollback()  # nothing written: no commit to wait for
                return 0
            values, seq, prev_hash = self._link(rows, seq, prev_hash)
            session.execute(audit_entry_table.insert(), values)
            session.execute(audit_pending_table.delete()
                            .where(audit_pending_table.c.id.in_([r.id for r in rows])))
            session.execute(audit_head_table.update().where(audit_head_table.c.id == 1)
                            .values(seq=seq, entry_hash=prev_hash))
            self._checkpoints(session, values)
            session.commit()
        return len(rows)

    def _chain_batch_pg(self, session: Session, limit: int) -> int | None:
        """The pass in three round trips (every one is spent holding the head): lock the head
        and read the queue in one statement; insert the entries, delete them from the queue and
        move the head in a second; commit. None when the queue read was stale (the statement's
        snapshot predates a wait on the head, so another process's pass may have linked some
        of those rows meanwhile: nothing is kept and the caller takes the long way). Fixed SQL
        texts: nothing to build or compile per pass."""
        found = session.execute(_PG_LOCK_AND_READ, {"limit": limit}).all()
        if not found:
            return None  # no head row yet: the long way creates it
        rows = [r for r in found if r.id is not None]
        if not rows:
            session.rollback()
            return 0
        values, seq, prev_hash = self._link(rows, int(found[0].head_seq),
                                            str(found[0].head_hash))
        entries = json.dumps([{**v, "occurred_at": format_time(v["occurred_at"])}
                              for v in values])
        moved = session.execute(_PG_STORE, {"entries": entries, "ids": [r.id for r in rows],
                                            "n": len(rows), "seq": seq, "hash": prev_hash})
        if moved.first() is None:
            return None
        self._checkpoints(session, values)
        session.commit()
        return len(rows)

    def _link(self, rows: list[Any], seq: int, prev_hash: str
              ) -> tuple[list[dict[str, Any]], int, str]:
        """The entries of queued rows linked after (seq, prev_hash), and the new head."""
        values: list[dict[str, Any]] = []
        for row in rows:
            seq += 1
            entry = self._entry(seq, prev_hash, as_utc(row.occurred_at), row.actor,
                                split_roles(row.roles), row.organisation, row.purpose,
                                row.action, row.object_type, row.object_id, row.outcome,
                                row.trace_id)
            values.append(_entry_values(entry))
            prev_hash = entry.entry_hash
        return values, seq, prev_hash

    def _checkpoints(self, session: Session, values: list[dict[str, Any]]) -> None:
        for v in values:
            if v["seq"] % self.checkpoint_every == 0:
                self._store_checkpoint(session, v["seq"], v["entry_hash"])

    def _entry(self, seq: int, prev_hash: str, occurred_at: datetime, actor: str,
               roles: tuple[str, ...], organisation: str, purpose: str | None, action: str,
               object_type: str, object_id: str, outcome: str, trace_id: str | None
               ) -> AuditEntry:
        draft = AuditEntry(
            seq=seq, occurred_at=occurred_at, service=self.service, actor=actor,
            roles=tuple(sorted(set(roles))), organisation=organisation, purpose=purpose,
            action=action, object_type=object_type, object_id=object_id, outcome=outcome,
            trace_id=trace_id, prev_hash=prev_hash, entry_hash="",
        )
        return replace(draft, entry_hash=draft.computed_hash())

    def append_committed(self, engine: sa.Engine, record: AuditRecord) -> AuditEntry:
        """Add an entry in a transaction of its own and commit it (denials, failures). Not
        from inside a transaction that has already appended: it would wait on its own lock."""
        with Session(engine) as session, session.begin():
            return self.append(session, record)

    def checkpoint(self, session: Session) -> Checkpoint | None:
        """Sign the current head now (e.g. from a periodic job); None if the chain is empty."""
        _advance_head(session, step=0)  # lock the head so no append moves it meanwhile
        row = session.execute(sa.select(audit_head_table.c.seq, audit_head_table.c.entry_hash)
                              .where(audit_head_table.c.id == 1)).one()
        if row.seq == 0:
            return None
        return self._store_checkpoint(session, int(row.seq), row.entry_hash)

    def _store_checkpoint(self, session: Session, seq: int, entry_hash: str) -> Checkpoint:
        cp = sign_checkpoint(self.signing_key, self.service, seq, entry_hash, self.clock())
        session.execute(audit_checkpoint_table.insert().values(
            service=cp.service, seq=cp.seq, entry_hash=cp.entry_hash, signed_at=cp.signed_at,
            key_id=cp.key_id, signature=cp.signature))
        return cp


def _advance_head(session: Session, step: int = 1) -> tuple[int, str]:
    """Lock the chain head (by updating it) and return (new seq, previous entry hash)."""
    head = audit_head_table
    # RETURNING: the new seq and the (unchanged) previous hash without a second round trip
    # while the head is locked.
    bump = (head.update().where(head.c.id == 1).values(seq=head.c.seq + step)
            .returning(head.c.seq, head.c.entry_hash))
    row = session.execute(bump).one_or_none()
    if row is None:
        _create_head(session)
        row = session.execute(bump).one()
    return int(row.seq), str(row.entry_hash)


_ENQUEUE = audit_pending_table.insert()  # one statement shape: compiled once, then cached
_ENTRY_COLUMNS = ("seq", "occurred_at", "service", "actor", "roles", "organisation", "purpose",
                  "action", "object_type", "object_id", "outcome", "trace_id", "prev_hash",
                  "entry_hash")
_PG_LOCK_AND_READ = sa.text(
    "WITH head AS (UPDATE audit_chain_head SET seq = seq WHERE id = 1"
    " RETURNING seq, entry_hash)"
    " SELECT head.seq AS head_seq, head.entry_hash AS head_hash, q.*"
    " FROM head LEFT JOIN (SELECT * FROM audit_pending ORDER BY id LIMIT :limit) AS q ON true"
    " ORDER BY q.id")
# Built from the constant column names above (nothing from outside): fixed text, bound values.
_STORE_SQL = (
    "WITH inserted AS (INSERT INTO audit_entry ({cols}) SELECT {cols}"
    " FROM jsonb_to_recordset(CAST(:entries AS jsonb)) AS e(seq bigint,"
    " occurred_at timestamptz, {texts})),"
    " deleted AS (DELETE FROM audit_pending WHERE id = ANY(CAST(:ids AS bigint[]))"
    " RETURNING id)"
    " UPDATE audit_chain_head SET seq = :seq, entry_hash = :hash"
    " WHERE id = 1 AND (SELECT count(*) FROM deleted) = :n RETURNING seq")
_PG_STORE = sa.text(_STORE_SQL.format(  # noqa: S608 - constant identifiers only
    cols=", ".join(_ENTRY_COLUMNS), texts=", ".join(f"{c} text" for c in _ENTRY_COLUMNS[2:])))


def _queued(session: Session, limit: int) -> list[Any]:
    pending = audit_pending_table
    return list(session.execute(sa.select(pending).order_by(pending.c.id).limit(limit)).all())


def _entry_values(entry: AuditEntry) -> dict[str, Any]:
    return {**asdict(entry), "roles": join_roles(entry.roles)}


def _store_entry(session: Session, values: dict[str, Any], entry_hash: str) -> None:
    """Insert the entry and point the head at it. On PostgreSQL one statement (the insert as a
    data-modifying WITH): every round trip saved shortens the time the head stays locked, which
    bounds how many actions per second the whole service can audit."""
    insert = audit_entry_table.insert().values(**values)
    move = (audit_head_table.update().where(audit_head_table.c.id == 1)
            .values(entry_hash=entry_hash))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(move.add_cte(insert.cte("entry")))
    else:
        session.execute(insert)
        session.execute(move)


def _create_head(session: Session) -> None:
    """Insert the head row if another writer has not (a savepoint absorbs the race)."""
    try:
        with session.begin_nested():
            session.execute(audit_head_table.insert().values(id=1, seq=0,
                                                             entry_hash=GENESIS_HASH))
    except IntegrityError:
        pass


def load_checkpoints(session: Session) -> list[Checkpoint]:
    """Every stored checkpoint, in sequence order."""
    t = audit_checkpoint_table
    rows = session.execute(sa.select(t).order_by(t.c.seq, t.c.id)).all()
    return [Checkpoint(r.service, int(r.seq), r.entry_hash, as_utc(r.signed_at), r.key_id,
                       r.signature) for r in rows]
