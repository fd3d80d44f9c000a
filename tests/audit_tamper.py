"""Helpers for the audit-chain tests: build a chain, then tamper with it the ways an attacker
with write access to the database (but not the master key) could."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from haven_shared.audit import AuditEntry, AuditLog, AuditRecord, checkpoint_key
from haven_shared.audit.model import audit_checkpoint_table, audit_entry_table, audit_head_table

KEY = checkpoint_key("test-master-key-for-audit-chains")
E = audit_entry_table
H = audit_head_table


def record(i: int) -> AuditRecord:
    return AuditRecord(actor=f"subject-{i % 3}", roles=("caseworker",), organisation="ngo-a",
                       purpose="tracing", action="case.read", object_type="missing_person_report",
                       object_id=f"case-{i}", trace_id=f"{i:032x}")


def build_chain(engine: sa.Engine, n: int, every: int = 5, service: str = "intake") -> AuditLog:
    """`n` entries, one transaction each, a checkpoint every `every` entries."""
    log = AuditLog(service, KEY, checkpoint_every=every)
    for i in range(1, n + 1):
        with Session(engine) as s, s.begin():
            log.append(s, record(i))
    return log


def entry(conn: sa.Connection, seq: int) -> AuditEntry:
    return AuditEntry.from_row(conn.execute(sa.select(E).where(E.c.seq == seq)).one())


def _shift(conn: sa.Connection, from_seq: int, by: int) -> None:
    """Renumber entries with seq >= from_seq by `by` (via negatives, to dodge the key)."""
    conn.execute(E.update().where(E.c.seq >= from_seq).values(seq=-E.c.seq))
    conn.execute(E.update().where(E.c.seq < 0).values(seq=-E.c.seq + by))


def modify(engine: sa.Engine, seq: int) -> None:
    with engine.begin() as conn:
        conn.execute(E.update().where(E.c.seq == seq).values(object_id="case-forged"))


def delete(engine: sa.Engine, seq: int) -> None:
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.seq == seq))


def delete_and_renumber(engine: sa.Engine, seq: int) -> None:
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.seq == seq))
        _shift(conn, seq + 1, -1)
        conn.execute(H.update().values(seq=H.c.seq - 1))


def insert(engine: sa.Engine, seq: int) -> None:
    """A forged entry with a correct hash, linked to its predecessor; later ones renumbered."""
    with engine.begin() as conn:
        before = entry(conn, seq - 1)
        _shift(conn, seq, +1)
        forged = AuditEntry(**{**before.__dict__, "seq": seq, "object_id": "case-forged",
                               "prev_hash": before.entry_hash, "entry_hash": ""})
        forged = AuditEntry(**{**forged.__dict__, "entry_hash": forged.computed_hash()})
        conn.execute(E.insert().values(**{**forged.__dict__, "roles": ",".join(forged.roles)}))
        conn.execute(H.update().values(seq=H.c.seq + 1))


def reorder(engine: sa.Engine, a: int, b: int) -> None:
    with engine.begin() as conn:
        conn.execute(E.update().where(E.c.seq == a).values(seq=-1))
        conn.execute(E.update().where(E.c.seq == b).values(seq=a))
        conn.execute(E.update().where(E.c.seq == -1).values(seq=b))


def truncate(engine: sa.Engine, keep_upto: int) -> None:
    """Drop the tail and move the chain head back so it agrees."""
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.seq > keep_upto))
        last = entry(conn, keep_upto)
        conn.execute(H.update().values(seq=keep_upto, entry_hash=last.entry_hash))


def rehash_from(engine: sa.Engine, seq: int) -> None:
    """Modify entry `seq`, then recompute every hash from there on, head included."""
    with engine.begin() as conn:
        conn.execute(E.update().where(E.c.seq == seq).values(object_id="case-forged"))
        prev = entry(conn, seq - 1).entry_hash if seq > 1 else "0" * 64
        rows = conn.execute(sa.select(E).where(E.c.seq >= seq).order_by(E.c.seq)).all()
        for row in rows:
            e = AuditEntry(**{**AuditEntry.from_row(row).__dict__, "prev_hash": prev})
            prev = e.computed_hash()
            conn.execute(E.update().where(E.c.seq == e.seq)
                         .values(prev_hash=e.prev_hash, entry_hash=prev))
        conn.execute(H.update().values(entry_hash=prev))


def modify_and_rehash_one(engine: sa.Engine, seq: int) -> None:
    with engine.begin() as conn:
        e = entry(conn, seq)
        forged = AuditEntry(**{**e.__dict__, "action": "case.erase"})
        conn.execute(E.update().where(E.c.seq == seq)
                     .values(action=forged.action, entry_hash=forged.computed_hash()))


def forge_checkpoint(engine: sa.Engine) -> None:
    """Re-sign the newest checkpoint with a key that is not the service's."""
    from haven_shared.audit import sign_checkpoint
    from haven_shared.audit.model import as_utc

    with engine.begin() as conn:
        row = conn.execute(sa.select(audit_checkpoint_table)
                           .order_by(audit_checkpoint_table.c.seq.desc()).limit(1)).one()
        fake = sign_checkpoint(checkpoint_key("guessed-key"), row.service, row.seq,
                               "f" * 64, as_utc(row.signed_at))
        conn.execute(audit_checkpoint_table.update()
                     .where(audit_checkpoint_table.c.id == row.id)
                     .values(entry_hash=fake.entry_hash, signature=fake.signature))


# (name, tamper, expected reason, expected first broken seq) on a 20-entry chain,
# checkpoints every 5 entries.
TAMPER_CASES: list[tuple[str, Callable[[sa.Engine], None], str, int | None]] = [
    ("modified", lambda e: modify(e, 7), "modified", 7),
    ("deleted", lambda e: delete(e, 9), "deleted", 9),
    ("deleted_and_renumbered", lambda e: delete_and_renumber(e, 9), "deleted", 9),
    ("inserted", lambda e: insert(e, 12), "inserted", 12),
    ("reordered_adjacent", lambda e: reorder(e, 4, 5), "reordered", 4),
    ("reordered_apart", lambda e: reorder(e, 3, 8), "reordered", 3),
    ("truncated_after_checkpoint", lambda e: truncate(e, 13), "truncated", 14),
    ("modified_and_rehashed_one", lambda e: modify_and_rehash_one(e, 6), "modified", 6),
    # A full re-hash can only be placed between checkpoints: 11..15 holds the tampered 13.
    ("rehashed_without_key", lambda e: rehash_from(e, 13), "rehashed", 11),
    ("forged_checkpoint", forge_checkpoint, "forged_checkpoint", None),
]


def append_behind_head(engine: sa.Engine) -> None:
    """A forged entry correctly chained after the last one, the head left alone."""
    with engine.begin() as conn:
        last_seq = conn.execute(sa.select(sa.func.max(E.c.seq))).scalar_one()
        last = entry(conn, last_seq)
        forged = AuditEntry(**{**last.__dict__, "seq": last_seq + 1,
                               "prev_hash": last.entry_hash, "entry_hash": ""})
        forged = AuditEntry(**{**forged.__dict__, "entry_hash": forged.computed_hash()})
        conn.execute(E.insert().values(**{**forged.__dict__, "roles": ",".join(forged.roles)}))


TAMPER_CASES.append(("appended_behind_head", append_behind_head, "inserted", 21))


def insert_junk(engine: sa.Engine, seq: int) -> None:
    """An entry whose hash is made up, slipped in at `seq`; later ones renumbered."""
    with engine.begin() as conn:
        before = entry(conn, seq - 1)
        _shift(conn, seq, +1)
        junk = {**before.__dict__, "seq": seq, "roles": ",".join(before.roles),
                "prev_hash": before.entry_hash, "entry_hash": "a" * 64}
        conn.execute(E.insert().values(**junk))
        conn.execute(H.update().values(seq=H.c.seq + 1))


def insert_and_rehash_successor(engine: sa.Engine, seq: int) -> None:
    """As `insert`, and the displaced entry is re-hashed under its new number."""
    insert(engine, seq)
    with engine.begin() as conn:
        moved = entry(conn, seq + 1)
        conn.execute(E.update().where(E.c.seq == seq + 1)
                     .values(entry_hash=moved.computed_hash()))


def delete_two_and_renumber(engine: sa.Engine, seq: int) -> None:
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.seq.in_([seq, seq + 1])))
        _shift(conn, seq + 2, -2)
        conn.execute(H.update().values(seq=H.c.seq - 2))


TAMPER_CASES.extend([
    ("inserted_with_a_made_up_hash", lambda e: insert_junk(e, 12), "inserted", 12),
    ("inserted_and_successor_rehashed", lambda e: insert_and_rehash_successor(e, 12),
     "inserted", 12),
    ("two_deleted_and_renumbered", lambda e: delete_two_and_renumber(e, 16), "deleted", 16),
])


@contextmanager
def fresh_audit_database(admin_database_url: str) -> Iterator[str]:
    """A new PostgreSQL database with the audit tables, dropped on exit; yields its URL."""
    from haven_shared.audit import create_audit_tables
    from haven_shared.db import make_engine

    admin_url = sa.make_url(admin_database_url)
    name = f"audit_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    create_audit_tables(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
