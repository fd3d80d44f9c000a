"""Use cases of trafficking screening: screen, decide (reasonable/conclusive grounds),
request reconsideration. Positive decisions emit victim.presumed / victim.identified."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from uuid import UUID

from haven_shared.events.intake import VictimIdentified, VictimPresumed
from intake.domain.access import Actor, require_may_decide
from intake.domain.errors import RecordNotFound
from intake.domain.screening import Outcome, Stage, TraffickingScreening
from intake.service_layer.audit import audited
from intake.service_layer.common import (
    IdempotencyToken,
    UowFactory,
    latest_today,
    remember,
    replayed,
    retry_once_on_race,
    visible_case,
)
from intake.service_layer.unit_of_work import IntakeUnitOfWork

# The decisions as audit actions name them.
DECISION_ACTIONS = {
    (Stage.REASONABLE_GROUNDS, Outcome.POSITIVE): "victim.presumed",
    (Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE): "victim.not-presumed",
    (Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE): "victim.identified",
    (Stage.CONCLUSIVE_GROUNDS, Outcome.NEGATIVE): "victim.not-identified",
}


def _load(uow: IntakeUnitOfWork, case_id: UUID, screening_id: UUID, *, for_update: bool = False
          ) -> TraffickingScreening:
    screening = uow.screenings.get(case_id, screening_id, for_update=for_update)
    if screening is None:
        raise RecordNotFound("No such screening.")
    return screening


def screen(uows: UowFactory, actor: Actor, case_id: UUID, indicators: list[str],
           notes: str | None, now: datetime, token: IdempotencyToken | None = None,
           purpose: str | None = None) -> TraffickingScreening:
    """Record the indicators observed for the case's person."""

    def run() -> TraffickingScreening:
        with audited(uows, actor, "screening.create", case_id, purpose) as uow:
            earlier = replayed(uow, actor, token)
            if earlier is not None:
                visible_case(uow, actor, earlier[0])
                found = _load(uow, earlier[0], earlier[1])
                uow.commit()
                return found
            case = visible_case(uow, actor, case_id)
            screening = TraffickingScreening.screen(uuid.uuid4(), case.id, indicators, notes,
                                                    actor.username, now)
            uow.screenings.save(screening, case.subject_key_id)
            remember(uow, actor, token, case.id, screening.id)
            uow.commit()
            return screening

    return retry_once_on_race(run)


def get_screening(uows: UowFactory, actor: Actor, case_id: UUID, screening_id: UUID,
                  purpose: str) -> TraffickingScreening:
    """A screening of a case the actor may see."""
    with audited(uows, actor, "screening.read", case_id, purpose) as uow:
        visible_case(uow, actor, case_id)
        found = _load(uow, case_id, screening_id)
        uow.commit()
        return found


def decide(uows: UowFactory, actor: Actor, case_id: UUID, screening_id: UUID, stage: Stage,
           outcome: Outcome, decision_date: date, reasons: str, now: datetime,
           purpose: str | None = None) -> TraffickingScreening:
    """Record a decision step (supervisors only); a positive one is announced. Audited as
    `victim.presumed`, `victim.identified` or their negatives."""
    with audited(uows, actor, DECISION_ACTIONS[stage, outcome], case_id, purpose) as uow:
        case = visible_case(uow, actor, case_id, for_update=True)
        require_may_decide(actor)
        screening = _load(uow, case_id, screening_id, for_update=True)
        screening.decide(stage, outcome, decision_date, reasons, actor.username, now,
                         latest_today(now))
        uow.screenings.save(screening, case.subject_key_id)
        if outcome is Outcome.POSITIVE:
            sealed = uow.keyring.seal(uow.session, case.subject_key_id, {"reasons": reasons})
            kind = VictimPresumed if stage is Stage.REASONABLE_GROUNDS else VictimIdentified
            uow.emit(kind(case_id=case.id, organisation_id=case.organisation_id,
                          screening_id=screening.id, decided_at=now,
                          decision_date=decision_date, is_minor=case.is_minor, reasons=sealed))
        uow.commit()
        return screening


def request_reconsideration(uows: UowFactory, actor: Actor, case_id: UUID, screening_id: UUID,
                            stage: Stage, purpose: str | None = None) -> TraffickingScreening:
    """Reopen a negative decision for a new decision."""
    with audited(uows, actor, "screening.reconsideration-request", case_id, purpose) as uow:
        case = visible_case(uow, actor, case_id, for_update=True)
        screening = _load(uow, case_id, screening_id, for_update=True)
        screening.request_reconsideration(stage)
        uow.screenings.save(screening, case.subject_key_id)
        uow.commit()
        return screening


def list_screenings(uows: UowFactory, actor: Actor, case_id: UUID, purpose: str
                    ) -> list[TraffickingScreening]:
    """The case's screenings, oldest first."""
    with audited(uows, actor, "screening.list", case_id, purpose) as uow:
        visible_case(uow, actor, case_id)
        found = [_load(uow, case_id, i) for i in uow.screenings.ids_for_case(case_id)]
        uow.commit()
        return found
