"""Erasure of data subjects (crypto-shredding, right to erasure): an administrator names a case
or a record; intake destroys the subjects' keys and tells the other services to destroy their
copies (`haven.intake.subject.erased.v1`).

Everything intake sealed with those keys — its tables, its outbox, every event on Kafka, every
dead letter — can no longer be opened from that commit on, and nothing can be sealed for the
subjects again (the keys leave tombstones). The erasure is audited like any other action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from haven_shared.events.intake import DataSubjectErased
from intake.adapters.erasure import ErasureRepository
from intake.domain.access import Actor
from intake.domain.errors import RecordNotFound
from intake.service_layer.audit import audit_record, audited
from intake.service_layer.common import UowFactory

ACTION = "subject.erase"


@dataclass(frozen=True)
class Erasure:
    """What one erasure did (ids and counts only)."""

    erasure_id: UUID
    case_id: UUID
    case_subject: bool
    subjects: int
    keys_destroyed: int
    reason: str
    erased_at: datetime


def erase_subject(
    uows: UowFactory, actor: Actor, subject_ref: UUID, reason: str, now: datetime
) -> Erasure:
    """Destroy the keys of the data subjects `subject_ref` names (a case or a record) and emit
    `subject.erased`. Erasing again is harmless: nothing is left to destroy, and the event is
    emitted again so that a consumer that missed it still learns it."""
    with audited(uows, actor, ACTION, None, reason) as uow:
        scope = ErasureRepository(uow.session).scope_of(subject_ref)
        if scope is None:
            raise RecordNotFound("No such case or record.")
        uow.audit(audit_record(actor, ACTION, scope.case_id, reason))
        destroyed = sum(uow.keyring.erase_subject(uow.session, k) for k in scope.key_ids)
        erasure = Erasure(
            uuid.uuid4(),
            scope.case_id,
            scope.case_subject,
            len(scope.key_ids),
            destroyed,
            reason,
            now,
        )
        uow.emit(
            DataSubjectErased(
                case_id=scope.case_id,
                organisation_id=scope.organisation_id,
                erasure_id=erasure.erasure_id,
                erased_at=now,
                reason=reason,  # type: ignore[arg-type]
                key_ids=scope.key_ids,
                record_ids=scope.record_ids,
                case_subject=scope.case_subject,
            )
        )
        uow.commit()
        return erasure
