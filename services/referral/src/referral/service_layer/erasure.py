"""Erasure of a case's person (`intake.subject.erased`): the case's open referrals stop, and every
partner that ever received data for the case is told, on its own topic, to delete all of it,
whatever state the referral is in (a completed referral's partner holds data too)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from haven_shared.events.intake import DataSubjectErased
from haven_shared.events.referral import PartnerSubjectErased
from haven_shared.uow import UnitOfWork
from referral.adapters.repository import ReferralRepository
from referral.domain.lifecycle import OPEN, Status
from referral.domain.offers import OfferStatus, Referral
from referral.service_layer.audit import queue, system_record
from referral.service_layer.referrals import Deps

SUBJECT_ERASED = "subject-erased"


def stop_for_erasure(referral: Referral) -> None:
    """Stop an open referral whose person was erased: not yet started, cancelled; under way,
    failed with the reason."""
    if referral.status not in OPEN:
        return
    if referral.status in (Status.REQUESTED, Status.ACCEPTED):
        referral.advance(None, Status.CANCELLED)
    else:
        referral.advance(None, Status.FAILED, SUBJECT_ERASED)
    for offer in referral.offers:
        if offer.status == OfferStatus.OPEN:
            offer.status = OfferStatus.CANCELLED


def erase_case_subject(
    uow: UnitOfWork, deps: Deps, case_id: UUID, organisation_id: str, now: datetime
) -> int:
    """Stop the case's referrals and tell each partner that received data; returns how many
    partner notices were emitted."""
    referrals = ReferralRepository(uow.session)
    notices = 0
    for found, _ in referrals.of_case(case_id, organisation_id):
        locked = referrals.get(UUID(found.referral_id), for_update=True)
        if locked is None:
            continue
        referral, context = locked
        holders = list(dict.fromkeys(o.org for o in referral.offers))
        if referral.status in OPEN:
            stop_for_erasure(referral)
            referrals.save(referral, context)
            for e in deps.translate(referral, context, now, reason_code=SUBJECT_ERASED):
                uow.emit(e)
            queue(deps, uow, system_record("subject-erasure", organisation_id,
                                           "referral.stop-subject-erased", case_id))
        for org in holders:
            uow.emit(
                PartnerSubjectErased(
                    referral_id=UUID(referral.referral_id),
                    partner_org=org,
                    subject=deps.translate.pseudonym(org, context.case_id),
                    erased_at=now,
                )
            )
            notices += 1
    return notices


def subject_erased_handler(
    deps: Deps, clock: Callable[[], datetime]
) -> Callable[[DataSubjectErased, UnitOfWork], None]:
    """The inbox handler of intake's erasures (never commits). Only the erasure of the person
    the case is about concerns referrals (a tracing record's subject never reaches referral)."""

    def handle(event: DataSubjectErased, uow: UnitOfWork) -> None:
        if event.case_subject:
            erase_case_subject(uow, deps, event.case_id, event.organisation_id, clock())

    return handle
