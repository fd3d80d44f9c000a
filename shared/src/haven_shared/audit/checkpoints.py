"""The periodic checkpoint job: signs the chain head every few minutes, whatever the traffic.

`AuditLog.append` signs a checkpoint every `checkpoint_every` entries; a quiet service would
otherwise leave its newest entries without one for a long time, and a truncation of those
entries would only show as a shorter chain. The job signs the head whenever it moved since the
last checkpoint, and can append the new checkpoints to a JSON-lines file kept apart from the
database (`export_to`), which the verifier reads with `--checkpoints-file`.

    job = CheckpointJob(engine, audit_log, interval_seconds=300).start()   # in the worker
    ...
    job.stop()
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Self

import sqlalchemy as sa
from sqlalchemy.orm import Session

from haven_shared.audit.chain import AuditLog, Checkpoint
from haven_shared.audit.export import export_checkpoints
from haven_shared.audit.model import audit_checkpoint_table, audit_head_table

log = logging.getLogger(__name__)


class CheckpointJob:
    """Signs the head of `audit_log`'s chain every `interval_seconds` when it has moved."""

    def __init__(self, engine: sa.Engine, audit_log: AuditLog, interval_seconds: float, *,
                 export_to: Path | None = None) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        self.engine = engine
        self.audit_log = audit_log
        self.interval_seconds = interval_seconds
        self.export_to = export_to
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> Checkpoint | None:
        """Link the queued entries left behind (a failed or interrupted pass), then sign the
        head if entries were appended since the newest checkpoint."""
        self.audit_log.chain_pending(self.engine)
        with Session(self.engine) as session, session.begin():
            head = session.execute(sa.select(audit_head_table.c.seq)).scalar_one_or_none()
            signed = session.execute(sa.select(sa.func.max(audit_checkpoint_table.c.seq))
                                     ).scalar_one()
            if not head or (signed is not None and int(signed) >= int(head)):
                return None
            checkpoint = self.audit_log.checkpoint(session)
        if self.export_to is not None:
            with Session(self.engine) as session:
                export_checkpoints(session, self.export_to)
        return checkpoint

    def run_forever(self, stop: threading.Event) -> None:
        """Tick until `stop` is set; a failed tick (database away) is retried next time."""
        while not stop.wait(self.interval_seconds):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the job must outlive a database outage
                log.warning("audit checkpoint of %s failed (%s)", self.audit_log.service,
                            type(exc).__name__)

    def start(self) -> Self:
        """Run in a daemon thread of its own."""
        self._thread = threading.Thread(target=self.run_forever, args=(self.stop_event,),
                                        name=f"{self.audit_log.service}-audit-checkpoints",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (no final checkpoint: the next start signs what is new)."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
