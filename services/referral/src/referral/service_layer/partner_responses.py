"""Partner answers arriving on `partner.<org>.responses`: the same state machine as REST.

An answer that cannot apply (unknown referral, not offered to that partner, out of order, a
step the lifecycle forbids) is refused: logged with its kind only and otherwise ignored, so a
redelivery is harmless and no other organisation's referral ever changes.
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
from referral.service_layer.referrals import Deps, PartnerAction, ReferralNotFound, answer_in

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
        try:
            # A savepoint: a refused answer leaves nothing behind in the shared transaction.
            with uow.session.begin_nested():
                answer_in(uow, deps, uuid.UUID(str(event.referral_id)), event.partner_org,
                          PartnerAction(event.action), event.reason, clock())
                uow.flush_events()
        except REFUSALS as exc:
            log.warning("partner answer refused (%s, %s)", event.action, type(exc).__name__)

    return handle
