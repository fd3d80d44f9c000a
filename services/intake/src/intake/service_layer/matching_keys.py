"""Matching keys for the registry's person index.

The matching part of a tracing event is sealed with the record subject's *matching key*, derived
from the subject's data key (`haven_shared.crypto`). The registry asks intake for that key when it
consumes the event. Erasing the subject destroys the data key, so from then on the key cannot be
given out and no copy of the matching part — on any topic, in any dead letter — can be opened,
even by holders of the secret the two services share to authenticate the call.

Only keys of tracing records' subjects are given out (never a case person's or an enquirer's),
and every hand-out is audited.
"""

from __future__ import annotations

import sqlalchemy as sa

from haven_shared.audit import AuditRecord, current_trace_id
from haven_shared.crypto import SubjectErased
from intake.adapters.orm import PersonRecordRow
from intake.domain.errors import RecordNotFound
from intake.service_layer.common import UowFactory

ACTION = "matching-key.read"
REGISTRY = "registry"


def matching_key(uows: UowFactory, key_id: str) -> bytes:
    """The matching key of a tracing record's subject; `RecordNotFound` for a key id that is no
    record's subject, `SubjectErased` once the subject was erased."""
    uow = uows()
    with uow:
        row = uow.session.execute(
            sa.select(PersonRecordRow.case_id).where(PersonRecordRow.subject_key_id == key_id)
        ).first()
        if row is None:
            raise RecordNotFound("No such subject key.")
        try:
            key = uow.keyring.matching_key(uow.session, key_id)
            outcome = "success"
        except SubjectErased:
            key, outcome = b"", "failed"
        uow.audit(
            AuditRecord.model_validate(
                {
                    "actor": REGISTRY,
                    "roles": (),
                    "organisation": REGISTRY,
                    "purpose": "matching",
                    "action": ACTION,
                    "object_type": "case",
                    "object_id": str(row.case_id),
                    "outcome": outcome,
                    "trace_id": current_trace_id(),
                }
            )
        )
        uow.commit()
    if not key:
        raise SubjectErased("the data subject's key has been erased")
    return key
