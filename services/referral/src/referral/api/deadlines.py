"""Routes of legal deadlines: record a residence-permit expiry, list upcoming deadlines."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict

from referral.api.dependencies import Handlers, Now, Referrer
from referral.domain.deadlines import Deadline, DeadlineKind
from referral.service_layer import deadlines as uc

router = APIRouter(prefix="/deadlines", tags=["deadlines"])


def _text_only(value: Any) -> Any:
    """A date-time is written as RFC 3339 text (a number would be read as seconds since 1970)."""
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 date-time string")
    return value


DateTimeText = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class DeadlineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: UUID
    # The reflection period comes from intake's presumed-victim decision, not from here.
    kind: Literal["residence-permit-expiry"]
    due: DateTimeText


class DeadlineOut(BaseModel):
    id: str
    case_id: str
    kind: str
    due: datetime
    caseworker: str


def _out(d: Deadline) -> DeadlineOut:
    return DeadlineOut(id=d.deadline_id, case_id=d.case_id, kind=d.kind.value, due=d.due,
                       caseworker=d.caseworker)


@router.post("", status_code=201, response_model=DeadlineOut,
             summary="Record a residence-permit expiry of a case")
def record(body: DeadlineIn, actor: Referrer, deps: Handlers) -> DeadlineOut:
    """Alerts follow at the configured offsets before it, and when it passes."""
    return _out(uc.record_deadline(deps.uows, actor, body.case_id, DeadlineKind(body.kind),
                                   body.due))


@router.get("", response_model=list[DeadlineOut],
            summary="Upcoming deadlines of your organisation's cases (mine=true: yours)")
def upcoming(actor: Referrer, deps: Handlers, now: Now, mine: bool = False
             ) -> list[DeadlineOut]:
    """Soonest first."""
    found = uc.upcoming(deps.uows, actor, now)
    return [_out(d) for d in found if not mine or d.caseworker == actor.username]
