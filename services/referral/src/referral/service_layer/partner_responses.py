"""Partner answers arriving on `partner.<org>.responses`: the same state machine as REST.

An answer that cannot apply (unknown referral, not offered to that partner, out of order, a
step the lifecycle forbids) is refused: logged with its kind only and otherwise ignored, so a
redelivery is harmless and no other organisation's referral ever changes.

Every answer is audited in the consumer's transaction with the partner as actor: applied as
`success` (naming the case), refused as `denied` (not theirs: naming the referral only) or
`failed` (a step the lifecycle refuses).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from haven_shared.events.referral import PartnerReferralAnswered
from haven_shared.uow import UnitOfWork
from referral.domain.lifecycle import IllegalTransition, ReasonRequired
from referral.domain.offers import NotOffered, OfferClosed
from referral.service_layer.audit import REFERRAL, partner_record, queue
from referral.service_layer.referrals import (
    Deps,
    PartnerAction,
    ReferralNotFound,
    answer_action,
    answer_in,
)

log = logging.getLogger(__name__)

REFUSALS = (ReferralNotFound, OfferClosed, NotOffered, IllegalTransition, ReasonRequired,
            ValueError)


def answer_handler(deps: Deps, clock: Callable[[], datetime]
                   ) -> Callable[[PartnerReferralAnswered, UnitOfWork], None]:
    """The inbox handler applying partner answers (the partner is the topic's organisation)."""

    def handle(event: PartnerReferralAnswered, uow: UnitOfWork) -> None:
        if not event.partner_org:
            log.warning("partner answer without a partner organisation refused")
            return
        referral_id = uuid.UUID(str(event.referral_id))
        action = answer_action(event.action)
        try:
            # A savepoint: a refused answer leaves nothing behind in the shared transaction.
            with uow.session.begin_nested():
                _, context = answer_in(uow, deps, referral_id, event.partner_org,
                                       PartnerAction(event.action), event.reason, clock())
                uow.flush_events()
        except REFUSALS as exc:
            log.warning("partner answer refused (%s, %s)", event.action, type(exc).__name__)
            outcome = "denied" if isinstance(exc, ReferralNotFound) else "failed"
            queue(deps, uow, partner_record(event.partner_org, action, referral_id, outcome,
                                            REFERRAL))
            return
        queue(deps, uow, partner_record(event.partner_org, action, context.case_id))

    return handle
