"""Reading the audit log: entries filtered by object, actor, organisation, time and trace, and
their export as JSON lines or CSV. Read-only: nothing here writes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from haven_shared.audit.model import AuditEntry, audit_entry_table

EXPORT_COLUMNS = ["seq", "occurred_at", "service", "actor", "roles", "organisation", "purpose",
                  "action", "object_type", "object_id", "outcome", "trace_id", "prev_hash",
                  "entry_hash"]


@dataclass(frozen=True)
class EntryFilter:
    """Conditions an entry must meet; unset fields do not filter."""

    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    organisation: str | None = None
    action: str | None = None
    trace_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, stmt: sa.Select) -> sa.Select:  # type: ignore[type-arg]
        t = audit_entry_table.c
        equal = {t.object_type: self.object_type, t.object_id: self.object_id,
                 t.actor: self.actor, t.organisation: self.organisation,
                 t.action: self.action, t.trace_id: self.trace_id}
        for column, value in equal.items():
            if value is not None:
                stmt = stmt.where(column == value)
        if self.since is not None:
            stmt = stmt.where(t.occurred_at >= self.since)
        if self.until is not None:
            stmt = stmt.where(t.occurred_at < self.until)
        return stmt


def find_entries(session: Session, flt: EntryFilter, *, after_seq: int = 0,
                 limit: int = 100) -> list[AuditEntry]:
    """Entries matching `flt` with a sequence number above `after_seq`, oldest first."""
    t = audit_entry_table
    stmt = flt.where(sa.select(t).where(t.c.seq > after_seq)).order_by(t.c.seq).limit(limit)
    return [AuditEntry.from_row(r) for r in session.execute(stmt).all()]


def iter_matching(session: Session, flt: EntryFilter, page: int = 1000
                  ) -> Iterator[AuditEntry]:
    """Every entry matching `flt`, oldest first, read a page at a time."""
    after = 0
    while True:
        batch = find_entries(session, flt, after_seq=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].seq


def to_json_line(entry: AuditEntry) -> str:
    return json.dumps(entry.public(), ensure_ascii=False, sort_keys=True) + "\n"


def to_csv_lines(entries: Iterator[AuditEntry]) -> Iterator[str]:
    """A header row, then one row per entry (roles joined by ';')."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    yield _drain(buffer)
    for entry in entries:
        row = entry.public()
        row["roles"] = ";".join(entry.roles)
        writer.writerow({k: "" if row[k] is None else row[k] for k in EXPORT_COLUMNS})
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
