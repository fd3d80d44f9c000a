"""Transactional outbox: the outgoing event is written in the caller's database transaction.

Usage (inside whatever transaction changes the state; normally the unit of work does this):

    outbox = Outbox(source="/haven/intake")
    outbox.add(session, CaseOpened(...))   # no commit here: the caller's commit publishes

The `outbox` table has Debezium's outbox columns (id, aggregatetype, aggregateid, type, payload)
plus `headers` (the CloudEvents attributes and W3C trace context, as Kafka headers), `created_at`
and `sent_at` (NULL until the relay has published the row). `seq` orders rows: the relay
publishes each aggregate's events in `seq` order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from haven_shared.events.envelope import Envelope
from haven_shared.events.model import Event
from haven_shared.faults import crash_point

# JSONB on PostgreSQL (Debezium reads it as JSON text), plain JSON elsewhere (SQLite).
JsonColumn = sa.JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
SeqColumn = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxMessage(SQLModel, table=True):
    """One event waiting for (or done with) publication to Kafka."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_unsent", "seq", postgresql_where=sa.text("sent_at IS NULL"),
                 sqlite_where=sa.text("sent_at IS NULL")),
        sa.Index("ix_outbox_aggregate", "aggregateid", "seq"),
    )

    seq: int | None = Field(default=None, sa_type=SeqColumn, primary_key=True)
    id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid(), unique=True, nullable=False))
    aggregatetype: str = Field(max_length=255)
    aggregateid: str = Field(max_length=255)
    type: str = Field(max_length=255)
    payload: dict[str, Any] = Field(sa_type=JsonColumn)
    headers: dict[str, str] = Field(sa_type=JsonColumn)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True), default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))

    def envelope(self) -> Envelope:
        """The CloudEvent this row holds."""
        return Envelope.from_headers(self.headers, self.payload)


class Outbox:
    """Writes events into the `outbox` table of the session's database; never commits."""

    def __init__(self, source: str) -> None:
        """`source` is the CloudEvents source of this service, e.g. "/haven/intake"."""
        self.source = source

    def add(self, session: Session, event: Event) -> OutboxMessage:
        """Stage `event` in the session's transaction, with the current trace context."""
        return self.add_all(session, [event])[0]

    def add_all(self, session: Session, events: Sequence[Event]) -> list[OutboxMessage]:
        """Stage several events, in order; the unit of work calls this once at commit.

        On PostgreSQL it first takes a transaction-scoped advisory lock per aggregate (in sorted
        order, so two writers cannot deadlock on them). A second transaction writing events of
        the same aggregate then waits until this one has committed, so `seq` order is commit
        order per aggregate and the relay can never see a later event before an earlier one.
        """
        lock_aggregates(session, {(e.aggregate_type, e.aggregate_id()) for e in events})
        rows = [self.add_envelope(session, Envelope.wrap(e, self.source),
                                  aggregate_type=e.aggregate_type) for e in events]
        crash_point("outbox.after-stage")
        return rows

    def add_envelope(self, session: Session, envelope: Envelope, *, aggregate_type: str
                     ) -> OutboxMessage:
        """Stage an already built envelope (e.g. when re-emitting)."""
        row = OutboxMessage(
            id=uuid.UUID(envelope.id),
            aggregatetype=aggregate_type,
            aggregateid=envelope.subject,
            type=envelope.type,
            payload=envelope.data,
            headers=envelope.header_map(),
            created_at=envelope.time,
        )
        session.add(row)
        return row


def lock_aggregates(session: Session, aggregates: Iterable[tuple[str, str]]) -> None:
    """Hold a PostgreSQL advisory lock per (aggregate type, id) until the transaction ends.

    No-op elsewhere: SQLite already serialises all writers.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for aggregate_type, aggregate_id in sorted(aggregates):
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(
            sa.func.hashtextextended(f"haven.outbox:{aggregate_type}:{aggregate_id}", 0))))


def create_outbox_table(engine: sa.Engine) -> None:
    """Create the outbox table if missing (tests, SQLite; services use migrations)."""
    SQLModel.metadata.create_all(engine, tables=[OutboxMessage.__table__])  # type: ignore[list-item]


def pending_count(session: Session) -> int:
    """How many rows still wait for the relay (for health checks and metrics)."""
    stmt = sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
    return int(session.execute(stmt).scalar_one())
