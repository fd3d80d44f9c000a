"""Intake's needs assessments and consents become referrals: every assessed need is referred as
soon as consent covers its kind of partner, and waits (visible on the case) until then."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from haven_shared.events.intake import ConsentGiven, NeedsAssessed
from haven_shared.uow import UnitOfWork
from referral.adapters.consent import ConsentRepository, PendingNeedRepository
from referral.adapters.repository import ProviderRepository, ReferralRepository
from referral.domain.assessment import (
    ALL_PARTNER_KINDS,
    CaseConsent,
    assessed_needs,
    assessment_referral_id,
)
from referral.domain.request import ReferralRequest, open_referral
from referral.domain.routing import Need, Survivor
from referral.service_layer.audit import queue, system_record
from referral.service_layer.referrals import Deps

ASSESSOR = "intake-assessment"
#: Consent purposes under which referrals share data.
REFERRAL_PURPOSES = frozenset({"services", "disclosure"})


def refer_or_hold(uow: UnitOfWork, deps: Deps, referral_id: str, case_id: uuid.UUID,
                  organisation_id: str, need: Need, survivor: Survivor, consent: CaseConsent,
                  now: datetime) -> bool:
    """Refer one assessed need if consent covers it (True), else hold it until it does."""
    referrals = ReferralRepository(uow.session)
    pending = PendingNeedRepository(uow.session)
    if referrals.get(uuid.UUID(referral_id)) is not None:
        return True  # already referred by an earlier delivery
    scoped = consent.for_need(need.kind, survivor.is_minor)
    if scoped is None:
        pending.hold(referral_id, case_id, organisation_id, need, survivor.is_minor)
        queue(deps, uow, system_record(ASSESSOR, organisation_id, "referral.await-consent",
                                       case_id))
        return False
    request = ReferralRequest(referral_id, str(case_id), organisation_id, need, survivor, scoped)
    providers = ProviderRepository(uow.session).of_kind(need.kind)
    referral, context = open_referral(request, providers, now, ASSESSOR, deps.sla)
    referrals.add(referral, context)
    pending.release(referral_id)
    for e in deps.translate(referral, context, now):
        uow.emit(e)
    queue(deps, uow, system_record(ASSESSOR, organisation_id, "referral.create", case_id))
    if context.consent.overridden:
        queue(deps, uow, system_record(ASSESSOR, organisation_id,
                                       "referral.child-protection-override", case_id))
    return True


def needs_assessed_handler(deps: Deps, clock: Callable[[], datetime]
                           ) -> Callable[[NeedsAssessed, UnitOfWork], None]:
    """Inbox handler: refer each assessed need (a minor's guardian included), or hold it."""

    def handle(event: NeedsAssessed, uow: UnitOfWork) -> None:
        survivor = Survivor(is_minor=event.is_minor)
        consent = ConsentRepository(uow.session).get(event.case_id)
        needs = assessed_needs([(n.need, n.urgency) for n in event.needs], survivor,
                               list(event.languages), event.staff_gender,
                               event.women_only_shelter)
        for need in needs:
            refer_or_hold(uow, deps, assessment_referral_id(str(event.assessment_id), need),
                          event.case_id, event.organisation_id, need, survivor, consent,
                          clock())

    return handle


def consent_given_handler(deps: Deps, clock: Callable[[], datetime]
                          ) -> Callable[[ConsentGiven, UnitOfWork], None]:
    """Inbox handler: widen the case's consent and refer the needs it now covers."""

    def handle(event: ConsentGiven, uow: UnitOfWork) -> None:
        if event.purpose not in REFERRAL_PURPOSES:
            return
        repo = ConsentRepository(uow.session)
        before = repo.get(event.case_id)
        kinds = set(event.partner_kinds) or {ALL_PARTNER_KINDS}
        consent = CaseConsent(before.partner_kinds | kinds, before.override or event.override)
        repo.put(event.case_id, event.organisation_id, consent)
        for referral_id, org, need, is_minor in PendingNeedRepository(uow.session).of_case(
                event.case_id):
            refer_or_hold(uow, deps, referral_id, event.case_id, org, need,
                          Survivor(is_minor=is_minor), consent, clock())

    return handle


def narrow_consent(uow: UnitOfWork, case_id: uuid.UUID, organisation_id: str,
                   partner_kinds: list[str]) -> None:
    """Forget consent for `partner_kinds` (all of it when empty), so no new referral leaves."""
    repo = ConsentRepository(uow.session)
    before = repo.get(case_id)
    if not partner_kinds:
        repo.put(case_id, organisation_id, CaseConsent())
        return
    repo.put(case_id, organisation_id,
             CaseConsent(before.partner_kinds - set(partner_kinds) - {ALL_PARTNER_KINDS},
                         before.override))
