"""The verifier: walks the chain and the signed checkpoints and names the first broken entry.

What it tells apart, at the first entry that fails:

- **modified**: the entry's fields no longer match its hash (or, re-hashed alone, no longer
  match what the next entry committed to);
- **deleted**: a sequence number is missing, or an entry sits where the next one belongs;
- **inserted**: an entry that the following entry does not expect sits in the chain;
- **reordered**: an entry sits at another entry's place;
- **truncated**: a checkpoint or the chain head vouches for entries that are gone;
- **rehashed**: the chain is self-consistent but differs from a signed checkpoint, so entries
  were rewritten with their hashes recomputed. Without the key the rewrite can only be placed
  between the last checkpoint that still matches and the first that does not, so
  `first_broken_seq` is the start of that span and `detected_at_seq` the checkpoint;
- **forged_checkpoint**: a checkpoint whose signature does not verify under the key.

Entries after the newest checkpoint are protected by the chain and the head row only: whoever
can write the database can rewrite or append to that tail unnoticed until the next checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from haven_shared.audit.chain import Checkpoint, load_checkpoints
from haven_shared.audit.model import (
    GENESIS_HASH,
    AuditEntry,
    audit_entry_table,
    audit_head_table,
    audit_pending_table,
)

Reason = Literal["modified", "deleted", "inserted", "reordered", "truncated", "rehashed",
                 "forged_checkpoint"]
# How far from its place a moved entry is looked for (only on the failure path).
_SEARCH = 8
_PAGE = 1000


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of a verification; `ok` is False exactly when `reason` is set."""

    ok: bool
    entries: int
    checkpoints: int
    last_seq: int
    first_broken_seq: int | None = None
    detected_at_seq: int | None = None
    reason: Reason | None = None
    detail: str = ""
    #: Entries queued by `AuditLog.enqueue` and not linked yet: committed with their actions,
    #: but outside the chain (so not yet tamper-evident) until the next chaining pass.
    queued: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class _Broken(Exception):
    def __init__(self, seq: int | None, reason: Reason, detail: str,
                 detected_at: int | None = None) -> None:
        super().__init__(detail)
        self.seq, self.reason, self.detail = seq, reason, detail
        self.detected_at = detected_at if detected_at is not None else seq


def iter_entries(session: Session, page: int = _PAGE) -> Iterator[AuditEntry]:
    """Every entry in sequence order, read a page at a time."""
    t = audit_entry_table
    after: int | None = None
    while True:
        stmt = sa.select(t).order_by(t.c.seq).limit(page)
        if after is not None:
            stmt = stmt.where(t.c.seq > after)
        rows = session.execute(stmt).all()
        for row in rows:
            yield AuditEntry.from_row(row)
        if len(rows) < page:
            return
        after = int(rows[-1].seq)


def verify_chain(session: Session, key: bytes, extra_checkpoints: Iterable[Checkpoint] = (),
                 *, page: int = _PAGE) -> VerificationResult:
    """Verify the audit chain of the session's database against its checkpoints (and any kept
    elsewhere, e.g. an exported file), signed under `key`."""
    checkpoints = sorted([*load_checkpoints(session), *extra_checkpoints],
                         key=lambda c: c.seq)
    walker = _Walker(checkpoints)
    try:
        for cp in checkpoints:
            if not cp.signature_valid(key):
                raise _Broken(None, "forged_checkpoint",
                              f"the checkpoint of entry {cp.seq} has an invalid signature",
                              detected_at=cp.seq)
        walker.walk(iter_entries(session, page))
        walker.finish(session)
    except _Broken as b:
        return VerificationResult(False, walker.count, len(checkpoints), walker.last_seq,
                                  b.seq, b.detected_at, b.reason, b.detail,
                                  queued=queued_entries(session))
    queued = queued_entries(session)
    waiting = f"; {queued} queued entries not linked yet" if queued else ""
    return VerificationResult(True, walker.count, len(checkpoints), walker.last_seq,
                              detail=f"{walker.count} entries and {len(checkpoints)} "
                                     f"checkpoints verified{waiting}", queued=queued)


def queued_entries(session: Session) -> int:
    """How many entries wait in `audit_pending` for a chaining pass (0 without the table)."""
    if not sa.inspect(session.connection()).has_table(audit_pending_table.name):
        return 0
    return int(session.execute(sa.select(sa.func.count()).select_from(audit_pending_table))
               .scalar_one())


class _Walker:
    """Walks entries in order, keeping the last two accepted hashes."""

    def __init__(self, checkpoints: list[Checkpoint]) -> None:
        self.by_seq: dict[int, list[Checkpoint]] = {}
        for cp in checkpoints:
            self.by_seq.setdefault(cp.seq, []).append(cp)
        self.count = 0
        self.last_seq = 0
        self.prev_hash = GENESIS_HASH
        self.prev_prev_hash: str | None = None
        self.last_vouched = 0  # newest checkpointed seq whose hash matched

    def walk(self, entries: Iterator[AuditEntry]) -> None:
        current = next(entries, None)
        while current is not None:
            following = next(entries, None)
            self.check(current, following)
            self.accept(current)
            current = following

    def check(self, entry: AuditEntry, following: AuditEntry | None) -> None:
        expected = self.last_seq + 1
        if entry.seq < expected:  # only numbers below 1 can sort before the expected one
            raise _Broken(entry.seq, "inserted", f"entry {entry.seq} precedes the chain's start")
        if entry.seq > expected:
            raise _Broken(expected, "deleted",
                          f"entries {expected} to {entry.seq - 1} are missing")
        self_consistent = entry.computed_hash() == entry.entry_hash
        linked = entry.prev_hash == self.prev_hash
        if self_consistent and linked:
            return
        if self_consistent:
            if entry.prev_hash == self.prev_prev_hash:
                raise _Broken(expected - 1, "inserted",
                              f"entry {expected} commits to entry {expected - 2}, so entry "
                              f"{expected - 1} was inserted")
            raise _Broken(expected - 1, "modified",
                          f"entry {expected} does not commit to entry {expected - 1}, which "
                          "was altered and re-hashed")
        home = _original_seq(entry)
        if home is not None and home > expected:
            shift = home - expected
            if following is not None and following.computed_hash(following.seq + shift) \
                    == following.entry_hash:
                raise _Broken(expected, "deleted",
                              f"{shift} entries from {expected} on were removed and the rest "
                              "renumbered")
            raise _Broken(expected, "reordered",
                          f"entry {expected} holds the entry that belongs at {home}")
        if home is not None and home < expected:
            raise _Broken(expected - 1, "inserted",
                          f"entry {expected} belongs at {home}; an entry was inserted before "
                          "it and the rest renumbered")
        if (following is not None and following.prev_hash == self.prev_hash
                and following.computed_hash(expected) == following.entry_hash):
            raise _Broken(expected, "inserted",
                          f"entry {expected} is not part of the chain: the entry after it "
                          "belongs at its place")
        raise _Broken(expected, "modified", f"entry {expected} does not match its hash")

    def accept(self, entry: AuditEntry) -> None:
        self.count += 1
        self.last_seq = entry.seq
        self.prev_prev_hash, self.prev_hash = self.prev_hash, entry.entry_hash
        for cp in self.by_seq.get(entry.seq, []):
            if cp.entry_hash != entry.entry_hash:
                raise _Broken(self.last_vouched + 1, "rehashed",
                              f"entry {entry.seq} differs from its signed checkpoint: entries "
                              f"{self.last_vouched + 1} to {entry.seq} were rewritten",
                              detected_at=entry.seq)
        if entry.seq in self.by_seq:
            self.last_vouched = entry.seq

    def finish(self, session: Session) -> None:
        newest = max(self.by_seq, default=0)
        if newest > self.last_seq:
            raise _Broken(self.last_seq + 1, "truncated",
                          f"a checkpoint vouches for entry {newest} but the chain ends at "
                          f"{self.last_seq}", detected_at=newest)
        head = session.execute(sa.select(audit_head_table.c.seq, audit_head_table.c.entry_hash)
                               .where(audit_head_table.c.id == 1)).first()
        head_seq = int(head.seq) if head else 0
        head_hash = head.entry_hash if head else GENESIS_HASH
        if head_seq > self.last_seq:
            raise _Broken(self.last_seq + 1, "truncated",
                          f"the chain head is at entry {head_seq} but the chain ends at "
                          f"{self.last_seq}", detected_at=head_seq)
        if head_seq < self.last_seq:
            raise _Broken(head_seq + 1, "inserted",
                          f"entries after {head_seq} were added behind the chain head")
        if head_hash != self.prev_hash:
            raise _Broken(self.last_seq, "modified",
                          f"entry {self.last_seq} differs from the chain head")


def _original_seq(entry: AuditEntry) -> int | None:
    """The nearby sequence number under which the entry's hash verifies, if not its own."""
    for delta in range(1, _SEARCH + 1):
        for seq in (entry.seq + delta, entry.seq - delta):
            if seq > 0 and entry.computed_hash(seq) == entry.entry_hash:
                return seq
    return None
