"""Erasure of data subjects (administrators only): `POST /subjects/{subject_ref}/erasure`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from haven_shared.audit import AuditLog
from haven_shared.auth import CurrentPrincipal
from haven_shared.errors import Forbidden
from haven_shared.events.intake import ErasureReason
from intake.api.dependencies import Now, Uows
from intake.domain.access import Actor
from intake.service_layer import erasure as handlers
from intake.service_layer.audit import audit_record

router = APIRouter(prefix="/subjects", tags=["erasure"])
ADMIN = "admin"


class ErasureRequest(BaseModel):
    """Why the subject is erased (a code: nothing written about the person)."""

    model_config = ConfigDict(extra="forbid")

    reason: ErasureReason = Field(description="Legal ground of the erasure.")


class ErasurePublic(BaseModel):
    """What was erased: ids and counts, nothing personal."""

    erasure_id: UUID
    case_id: UUID
    case_subject: bool = Field(description="The person the case is about was erased.")
    subjects: int = Field(description="Data subjects named by the reference.")
    keys_destroyed: int = Field(description="Keys destroyed now (0 when erased before).")
    reason: ErasureReason
    erased_at: datetime


def current_admin(request: Request, principal: CurrentPrincipal) -> Actor:
    """The caller, who must hold the `admin` role (a refusal is audited as denied)."""
    actor = Actor(principal.subject, principal.username, principal.org, principal.roles)
    if not principal.has_any({ADMIN}):
        audit: AuditLog = request.app.state.audit
        audit.append_committed(
            request.app.state.engine,
            audit_record(
                actor,
                handlers.ACTION,
                actor.org or "unknown",
                None,
                "denied",
                object_type="organisation",
            ),
        )
        raise Forbidden("Your role does not allow this action.")
    return actor


Admin = Annotated[Actor, Depends(current_admin)]


@router.post("/{subject_ref}/erasure", response_model=ErasurePublic)
def erase_subject(
    subject_ref: UUID, body: ErasureRequest, actor: Admin, uows: Uows, now: Now
) -> ErasurePublic:
    """Erase the data subjects a case id (every subject of the case) or a record id (that
    record's subject) names: their keys are destroyed, so their personal data can no longer be
    read anywhere, and the other services and partners are told to delete their copies."""
    done = handlers.erase_subject(uows, actor, subject_ref, body.reason, now)
    return ErasurePublic(
        erasure_id=done.erasure_id,
        case_id=done.case_id,
        case_subject=done.case_subject,
        subjects=done.subjects,
        keys_destroyed=done.keys_destroyed,
        reason=body.reason,
        erased_at=done.erased_at,
    )
