"""Checkpoints kept outside the database: an append-only JSON-lines file (ship it to storage
the database's writers cannot touch), read back by the verifier alongside the table."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from haven_shared.audit.chain import Checkpoint, load_checkpoints


def read_checkpoint_file(path: Path) -> list[Checkpoint]:
    """The checkpoints in a file written by `export_checkpoints` (none if it is missing)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Checkpoint(d["service"], int(d["seq"]), d["entry_hash"],
                                  datetime.fromisoformat(d["signed_at"]), d["key_id"],
                                  d["signature"]))
    return out


def export_checkpoints(session: Session, path: Path) -> int:
    """Append the checkpoints newer than the file's newest; returns how many were written."""
    newest = max((c.seq for c in read_checkpoint_file(path)), default=0)
    fresh = [c for c in load_checkpoints(session) if c.seq > newest]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for cp in fresh:
            f.write(json.dumps(cp.as_json(), sort_keys=True) + "\n")
    return len(fresh)
