"""Audit entries: what one entry records, its tables, and the canonical hash of an entry.

An entry names who acted (subject id or username, never a person's name), in which roles and
organisation, for what purpose, what they did, to which object (a type and an id, never personal
data), with what outcome, under which trace, and when. Entries form a hash chain: each entry's
hash covers all its fields and the previous entry's hash. Signed checkpoints of the chain head
live in a table of their own, apart from the entries.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlmodel import SQLModel

HASH_VERSION = 1
GENESIS_HASH = "0" * 64

# Identifiers only: no spaces or '@', so free text, names and e-mail addresses do not fit.
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:\-]+$", min_length=1,
                                         max_length=128)]
Outcome = Literal["success", "denied", "failed"]

_METADATA = SQLModel.metadata
_BigSeq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

audit_entry_table = sa.Table(
    "audit_entry", _METADATA,
    sa.Column("seq", _BigSeq, primary_key=True, autoincrement=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False, index=True),
    sa.Column("roles", sa.String(512), nullable=False),
    sa.Column("organisation", sa.String(128), nullable=False, index=True),
    sa.Column("purpose", sa.String(128), nullable=True),
    sa.Column("action", sa.String(128), nullable=False),
    sa.Column("object_type", sa.String(128), nullable=False),
    sa.Column("object_id", sa.String(128), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("trace_id", sa.String(32), nullable=True, index=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_entry_object", "object_type", "object_id"),
)

# One row (id = 1): the last sequence number and hash. Appenders lock it to serialise the chain.
audit_head_table = sa.Table(
    "audit_chain_head", _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", _BigSeq, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)

audit_checkpoint_table = sa.Table(
    "audit_checkpoint", _METADATA,
    sa.Column("id", _BigSeq, primary_key=True, autoincrement=True),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("seq", _BigSeq, nullable=False, index=True),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("signature", sa.String(64), nullable=False),
)


# Entries written in the action's transaction and not yet linked into the chain (see
# `AuditLog.enqueue`): no sequence number or hash yet, so writing one locks nothing. A chaining
# pass moves them into `audit_entry` in `id` order and deletes them, in one transaction.
audit_pending_table = sa.Table(
    "audit_pending", _METADATA,
    sa.Column("id", _BigSeq, primary_key=True, autoincrement=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("roles", sa.String(512), nullable=False),
    sa.Column("organisation", sa.String(128), nullable=False),
    sa.Column("purpose", sa.String(128), nullable=True),
    sa.Column("action", sa.String(128), nullable=False),
    sa.Column("object_type", sa.String(128), nullable=False),
    sa.Column("object_id", sa.String(128), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("trace_id", sa.String(32), nullable=True),
)


def audit_tables() -> list[sa.Table]:
    """The audit tables, for a service's `create_all(tables=...)`."""
    return [audit_entry_table, audit_head_table, audit_checkpoint_table, audit_pending_table]


def create_audit_tables(engine: sa.Engine) -> None:
    """Create the audit tables and the chain head if missing (idempotent)."""
    _METADATA.create_all(engine, tables=audit_tables())
    with engine.begin() as conn:
        if conn.execute(sa.select(audit_head_table.c.id)).first() is None:
            conn.execute(audit_head_table.insert().values(id=1, seq=0, entry_hash=GENESIS_HASH))


class AuditRecord(BaseModel):
    """What the caller says happened; the log adds sequence number, time and hashes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Token
    roles: tuple[Token, ...] = ()
    organisation: Token
    purpose: Token | None = None
    action: Token
    object_type: Token
    object_id: Token
    outcome: Outcome = "success"
    trace_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One stored entry of the chain."""

    seq: int
    occurred_at: datetime
    service: str
    actor: str
    roles: tuple[str, ...]
    organisation: str
    purpose: str | None
    action: str
    object_type: str
    object_id: str
    outcome: str
    trace_id: str | None
    prev_hash: str
    entry_hash: str

    @classmethod
    def from_row(cls, row: Any) -> AuditEntry:
        m = row._mapping
        return cls(
            seq=int(m["seq"]), occurred_at=as_utc(m["occurred_at"]), service=m["service"],
            actor=m["actor"], roles=split_roles(m["roles"]), organisation=m["organisation"],
            purpose=m["purpose"], action=m["action"], object_type=m["object_type"],
            object_id=m["object_id"], outcome=m["outcome"], trace_id=m["trace_id"],
            prev_hash=m["prev_hash"], entry_hash=m["entry_hash"],
        )

    def hashed_fields(self, seq: int | None = None) -> dict[str, Any]:
        """The fields the entry hash covers (optionally as if the entry had sequence `seq`)."""
        return {
            "v": HASH_VERSION,
            "seq": self.seq if seq is None else seq,
            "occurred_at": format_time(self.occurred_at),
            "service": self.service,
            "actor": self.actor,
            "roles": sorted(self.roles),
            "organisation": self.organisation,
            "purpose": self.purpose,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "outcome": self.outcome,
            "trace_id": self.trace_id,
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self, seq: int | None = None) -> str:
        """The SHA-256 of the canonical JSON of the entry's fields."""
        return sha256_hex(canonical_json(self.hashed_fields(seq)))

    def public(self) -> dict[str, Any]:
        """A JSON-ready view (for the auditor API and exports)."""
        return {**self.hashed_fields(), "roles": list(self.roles),
                "entry_hash": self.entry_hash}


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same bytes for the same value everywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_time(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


def join_roles(roles: tuple[str, ...]) -> str:
    return ",".join(sorted(set(roles)))


def split_roles(text: str) -> tuple[str, ...]:
    return tuple(r for r in text.split(",") if r)


def now_utc() -> datetime:
    # Microsecond precision is what PostgreSQL keeps, so the hash survives a round trip.
    return datetime.now(UTC)

