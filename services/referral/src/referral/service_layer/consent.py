"""Withdrawal of consent (`intake.consent.withdrawn`): open referrals stop, and every partner
that received the case's data is told, on its own topic, to delete it. Each stop is audited as
referral's own decision for the referring organisation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from haven_shared.events.intake import ConsentWithdrawn
from haven_shared.uow import UnitOfWork
from referral.adapters.repository import ReferralRepository
from referral.domain.sharing import (
    CONSENT_WITHDRAWN,
    stop_for_withdrawn_consent,
    withdrawal_covers,
)
from referral.service_layer.assessments import REFERRAL_PURPOSES, narrow_consent
from referral.service_layer.audit import queue, system_record
from referral.service_layer.referrals import Deps


def withdraw_consent(uow: UnitOfWork, deps: Deps, case_id: uuid.UUID, organisation_id: str,
                     partner_kinds: list[str], now: datetime) -> int:
    """Stop the case's open referrals to the partner kinds concerned; returns how many."""
    referrals = ReferralRepository(uow.session)
    stopped = 0
    for referral_id in referrals.open_of_case(case_id, organisation_id):
        found = referrals.get(referral_id, for_update=True)
        if found is None:
            continue
        referral, context = found
        if not withdrawal_covers(context.need.kind, partner_kinds):
            continue
        holders = stop_for_withdrawn_consent(referral)
        referrals.save(referral, context)
        for e in deps.translate(referral, context, now, reason_code=CONSENT_WITHDRAWN):
            uow.emit(e)
        for org in holders:
            uow.emit(deps.translate.withdrawal(referral, context, org, CONSENT_WITHDRAWN))
        queue(deps, uow, system_record("consent-withdrawal", organisation_id,
                                       "referral.stop-consent-withdrawn", case_id))
        stopped += 1
    return stopped


def consent_withdrawn_handler(deps: Deps, clock: Callable[[], datetime]
                              ) -> Callable[[ConsentWithdrawn, UnitOfWork], None]:
    """The inbox handler of intake's consent withdrawals (never commits)."""

    def handle(event: ConsentWithdrawn, uow: UnitOfWork) -> None:
        if event.purpose in REFERRAL_PURPOSES:
            narrow_consent(uow, event.case_id, event.organisation_id, list(event.partner_kinds))
            withdraw_consent(uow, deps, event.case_id, event.organisation_id,
                             list(event.partner_kinds), clock())

    return handle
