"""Handlers of other services' events that update the case views (run by the inbox consumer,
inside its unit of work; they never commit), and the query that reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from haven_shared.uow import UnitOfWork
from intake.adapters.outcome_repository import OutcomeRepository
from intake.domain.access import Actor
from intake.domain.outcomes import MatchState, ReferralState, record_ids_in
from intake.service_layer.audit import audited
from intake.service_layer.common import UowFactory, visible_case

DECEASED_ROLE = "deceased_records"
_MATCH_STATES = {
    "haven.registry.match.proposed.v1": "proposed",
    "haven.registry.family-link.restored.v1": "family-link-restored",
    "haven.registry.identification.confirmed.v1": "identified",
    "haven.registry.match.rejected.v1": "rejected",
    "haven.registry.match.withdrawn.v1": "withdrawn",
}
#: A registry family-notification task is kept in the match view under the task's id, with
#: this kind: a family awaits news about the record (its state: open, in-progress, done).
FAMILY_NOTIFICATION = "family-notification"
_REFERRAL_STATUS = {
    "haven.referral.requested.v1": "requested",
    "haven.referral.offered.v1": "offered",
}


def _when(event: Any) -> datetime:
    for name in ("changed_at", "requested_at", "proposed_at", "confirmed_at", "rejected_at",
                 "withdrawn_at"):
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            return value
    return datetime.now(UTC)


def on_referral_event(event: Any, uow: UnitOfWork) -> None:
    """A referral for one of our cases was requested, offered or changed state.

    Only the case's own organisation refers it: a referral another organisation made naming
    this case's id (the referral service cannot know whose case an id is) is ignored, so no
    organisation can write into another's case view."""
    repo = OutcomeRepository(uow.session)
    if repo.case_owner(event.case_id) != event.organisation_id:
        return
    before = repo.referral(event.referral_id)
    status = _REFERRAL_STATUS.get(event.event_type) or str(getattr(event, "status", "unknown"))
    need = getattr(event, "need", None) or (before.need if before else None)
    partner = getattr(event, "partner_org", None) or (before.partner_org if before else None)
    repo.save_referral(ReferralState(event.referral_id, event.case_id, status,
                                     str(need) if need else None, partner, _when(event)))


def on_match_event(event: Any, uow: UnitOfWork) -> None:
    """A match involving one of our records was proposed, confirmed or rejected."""
    repo = OutcomeRepository(uow.session)
    state = _MATCH_STATES[event.event_type]
    sides = [(event.record_ref, event.candidate_ref, event.candidate_kind),
             (event.candidate_ref, event.record_ref, event.record_kind)]
    for ours, other_ref, other_kind in sides:
        for record_id in record_ids_in(ours):
            case_id = repo.case_of_record(record_id)
            if case_id is None:
                continue
            repo.save_match(MatchState(
                candidate_id=event.candidate_id, case_id=case_id, record_id=record_id,
                other_ref=other_ref, other_kind=other_kind, state=state,
                probability=getattr(event, "probability", None), updated_at=_when(event)))


def on_family_notification(event: Any, uow: UnitOfWork) -> None:
    """Registry asked (or updated) a family-notification task for one of our records."""
    repo = OutcomeRepository(uow.session)
    for record_id in record_ids_in(event.record_ref):
        case_id = repo.case_of_record(record_id)
        if case_id is None:
            continue
        # Not the task's kind: a death is news only for the deceased-records permission.
        repo.save_match(MatchState(
            candidate_id=event.task_id, case_id=case_id, record_id=record_id,
            other_ref=f"registry/family-notification/{event.task_id}",
            other_kind=FAMILY_NOTIFICATION, state=event.state, probability=None,
            updated_at=event.changed_at))


def case_outcomes(uows: UowFactory, actor: Actor, case_id: UUID, purpose: str
                  ) -> tuple[list[ReferralState], list[MatchState]]:
    """The case's referral states and matches. Matches with remains, and identifications,
    need the deceased-records permission (news of a death is not for every caseworker)."""
    with audited(uows, actor, "case-outcomes.read", case_id, purpose) as uow:
        visible_case(uow, actor, case_id)
        referrals, matches = OutcomeRepository(uow.session).for_case(case_id)
        uow.commit()
    if not actor.has(DECEASED_ROLE):
        matches = [m for m in matches if m.other_kind != "remains" and m.state != "identified"]
    return referrals, matches
