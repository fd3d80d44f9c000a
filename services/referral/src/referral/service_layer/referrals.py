"""Referral use cases: request, read, partner answers and the referrer's cancellation.

Each handler opens a unit of work, loads, calls one domain method, emits the translated events,
queues its audit entry and commits. Object-level access: a referral belongs to the organisation
that requested it; a partner sees only referrals offered to its own organisation. Anything else
is "not found" (and audited as a denied attempt).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from haven_shared.audit import AuditLog
from haven_shared.uow import UnitOfWork
from referral.adapters.consent import PendingNeedRepository
from referral.adapters.repository import ReferralRepository
from referral.domain.lifecycle import ReasonRequired, Status
from referral.domain.offers import OfferStatus, Referral
from referral.domain.request import ReferralContext, ReferralRequest, open_referral
from referral.domain.routing import Need, Urgency
from referral.service_layer.audit import actor_record, audited, system_record
from referral.service_layer.events import EventTranslator
from referral.service_layer.unit_of_work import ReferralUnitOfWork

UowFactory = Callable[[], ReferralUnitOfWork]


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used for a different request (the API answers 409)."""


@dataclass(frozen=True)
class IdempotencyToken:
    """An `Idempotency-Key` and the fingerprint of the request it came with."""

    key: str
    fingerprint: str

    def scope(self, actor: Actor) -> str:
        """Keys are per caller: one user's key never collides with another's."""
        return hashlib.sha256(f"{actor.org}\x00{actor.username}\x00{self.key}".encode()
                              ).hexdigest()


class ReferralNotFound(Exception):
    """No such referral, or not one the caller may see (the API answers 404 either way)."""


@dataclass(frozen=True)
class Actor:
    """The caller, as the use cases need them (subject and roles for the audit log)."""

    username: str
    org: str
    subject: str = ""
    roles: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Deps:
    """What every handler needs besides its arguments (wired in `bootstrap`)."""

    uows: UowFactory
    translate: EventTranslator
    sla: dict[Urgency, timedelta]
    audit: AuditLog | None = None


class PartnerAction(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    START = "start"
    HOLD = "hold"
    RESUME = "resume"
    COMPLETE = "complete"
    FAIL = "fail"


_NEEDS_REASON = frozenset({PartnerAction.REJECT, PartnerAction.FAIL})
_ADVANCE = {PartnerAction.START: Status.IN_PROGRESS, PartnerAction.HOLD: Status.ON_HOLD,
            PartnerAction.RESUME: Status.IN_PROGRESS, PartnerAction.COMPLETE: Status.COMPLETED,
            PartnerAction.FAIL: Status.FAILED}


def request_referral(deps: Deps, request: ReferralRequest, actor: Actor, now: datetime,
                     token: IdempotencyToken | None = None, purpose: str | None = None
                     ) -> tuple[Referral, ReferralContext]:
    """Route and store a new referral, emitting its request, offers or unmet-need alert.

    With an idempotency token, a repeated request returns the referral made the first time
    (nothing is routed or offered twice; the replay is audited as a read).
    """
    try:
        with audited(deps, actor, "referral.create", request.case_id, purpose,
                     object_type="case") as uow:
            earlier = _replayed(uow, actor, token)
            if earlier is not None:
                uow.audit(actor_record(actor, "referral.create-replayed",
                                       earlier[1].case_id, purpose))
                uow.commit()
                return earlier
            providers = uow.providers.of_kind(request.need.kind)
            referral, context = open_referral(request, providers, now, actor.username,
                                              deps.sla)
            uow.referrals.add(referral, context)
            if token is not None:
                uow.idempotency.add(token.scope(actor), token.fingerprint,
                                    referral.referral_id)
            for e in deps.translate(referral, context, now):
                uow.emit(e)
            uow.audit(actor_record(actor, "referral.create", context.case_id, purpose))
            if context.consent.overridden:
                uow.audit(actor_record(actor, "referral.child-protection-override",
                                       context.case_id, purpose))
            uow.commit()
    except IntegrityError:
        # The same key committed concurrently: that request's referral is the answer.
        with deps.uows() as uow:
            earlier = _replayed(uow, actor, token)
            if earlier is not None:
                uow.audit(actor_record(actor, "referral.create-replayed",
                                       earlier[1].case_id, purpose))
                uow.commit()
        if earlier is None:
            raise
        return earlier
    return referral, context


def _replayed(uow: ReferralUnitOfWork, actor: Actor, token: IdempotencyToken | None
              ) -> tuple[Referral, ReferralContext] | None:
    if token is None:
        return None
    row = uow.idempotency.get(token.scope(actor))
    if row is None:
        return None
    if row.fingerprint != token.fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was used for a different request.")
    return uow.referrals.get(row.referral_id)


def get_referral(deps: Deps, referral_id: uuid.UUID, actor: Actor, purpose: str | None = None
                 ) -> tuple[Referral, ReferralContext]:
    """A referral of the caller's organisation (audited as a read of its case)."""
    with audited(deps, actor, "referral.read", referral_id, purpose) as uow:
        found = uow.referrals.get(referral_id)
        if found is None or found[1].organisation_id != actor.org:
            raise ReferralNotFound(str(referral_id))
        uow.audit(actor_record(actor, "referral.read", found[1].case_id, purpose))
        uow.commit()
    return found


def case_referrals(deps: Deps, case_id: uuid.UUID, actor: Actor, purpose: str | None = None
                   ) -> tuple[list[tuple[Referral, ReferralContext]], list[Need]]:
    """A case's referrals by the caller's organisation, and its needs still awaiting consent
    (audited as a listing of the case's referrals, even when there are none)."""
    with audited(deps, actor, "referral.list", case_id, purpose, object_type="case") as uow:
        referrals = uow.referrals.of_case(case_id, actor.org)
        waiting = [need for _, org, need, _ in PendingNeedRepository(uow.session).of_case(
            case_id) if org == actor.org]
        uow.audit(actor_record(actor, "referral.list", case_id, purpose))
        uow.commit()
    return referrals, waiting


def get_offered(deps: Deps, referral_id: uuid.UUID, actor: Actor, purpose: str | None = None
                ) -> tuple[Referral, ReferralContext]:
    """A referral as far as it was offered to the caller's organisation."""
    with audited(deps, actor, "partner-referral.read", referral_id, purpose) as uow:
        found = uow.referrals.get(referral_id)
        if found is None or not any(o.org == actor.org for o in found[0].offers):
            raise ReferralNotFound(str(referral_id))
        uow.audit(actor_record(actor, "partner-referral.read", found[1].case_id, purpose))
        uow.commit()
    return found


def partner_answer(deps: Deps, referral_id: uuid.UUID, actor: Actor, action: PartnerAction,
                   reason: str | None, now: datetime) -> tuple[Referral, ReferralContext]:
    """A partner's answer to a referral offered to its organisation (REST)."""
    name = answer_action(action)
    with audited(deps, actor, name, referral_id) as uow:
        result = answer_in(uow, deps, referral_id, actor.org, action, reason, now)
        uow.audit(actor_record(actor, name, result[1].case_id))
        uow.commit()
    return result


def answer_action(action: PartnerAction | str) -> str:
    """The audit action of a partner's answer ("referral.accept", ...)."""
    return f"referral.{PartnerAction(action).value}"


def answer_in(uow: UnitOfWork, deps: Deps, referral_id: uuid.UUID, org: str,
              action: PartnerAction, reason: str | None, now: datetime
              ) -> tuple[Referral, ReferralContext]:
    """Apply partner `org`'s answer inside `uow` (REST or response topic); never commits.

    The row is locked while the answer is applied, so of two simultaneous acceptances of a
    broadcast one wins and the other finds the referral already accepted (OfferClosed).
    """
    referrals = ReferralRepository(uow.session)
    found = referrals.get(referral_id, for_update=True)
    if found is None or not any(o.org == org for o in found[0].offers):
        raise ReferralNotFound(str(referral_id))
    if action in _NEEDS_REASON and not reason:
        raise ReasonRequired(f"{action.value} needs a reason code")
    referral, context = found
    if action == PartnerAction.ACCEPT:
        referral.accept(org)
    elif action == PartnerAction.REJECT:
        referral.reject(org, reason or "", now, deps.sla)
    else:
        referral.advance(org, _ADVANCE[action], reason)
    referrals.save(referral, context)
    for e in deps.translate(referral, context, now, reason_code=reason):
        uow.emit(e)
    return referral, context


def cancel_referral(deps: Deps, referral_id: uuid.UUID, actor: Actor, now: datetime,
                    purpose: str | None = None) -> tuple[Referral, ReferralContext]:
    """The referrer withdraws the referral: open offers end and partners are told to discard."""
    with audited(deps, actor, "referral.cancel", referral_id, purpose) as uow:
        found = uow.referrals.get(referral_id, for_update=True)
        if found is None or found[1].organisation_id != actor.org:
            raise ReferralNotFound(str(referral_id))
        referral, context = found
        holders = [o.org for o in referral.offers
                   if o.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED)]
        referral.advance(None, Status.CANCELLED)
        uow.referrals.save(referral, context)
        for e in deps.translate(referral, context, now):
            uow.emit(e)
        for org in holders:
            uow.emit(deps.translate.withdrawal(referral, context, org, "cancelled"))
        uow.audit(actor_record(actor, "referral.cancel", context.case_id, purpose))
        uow.commit()
    return referral, context


def escalate_overdue(deps: Deps, now: datetime) -> int:
    """Expire offers past their deadline and offer to the next provider; returns how many
    referrals changed. Each referral is its own transaction, audited as the clock's decision."""
    with deps.uows() as uow:
        ids = uow.referrals.open_ids()
    changed = 0
    for referral_id in ids:
        with deps.uows() as uow:
            found = uow.referrals.get(referral_id, for_update=True)
            if found is None:
                continue
            referral, context = found
            referral.expire_overdue(now, deps.sla)
            if not referral.events:
                continue
            uow.referrals.save(referral, context)
            for e in deps.translate(referral, context, now):
                uow.emit(e)
            uow.audit(system_record("referral-clock", context.organisation_id,
                                    "referral.escalate", context.case_id))
            uow.commit()
            changed += 1
    return changed
