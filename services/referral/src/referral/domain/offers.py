"""A referral's offers to providers: sequential with escalation, or broadcast (first accept wins).

The aggregate records what happened as domain events (plain tuples of name and data) for the
service layer to publish through the outbox. Capacity is never double-booked: once one offer is
accepted, every other open offer is cancelled and later acceptances are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from referral.domain.lifecycle import Status, transition
from referral.domain.routing import Provider, Urgency


class OfferMode(StrEnum):
    SEQUENTIAL = "sequential"
    BROADCAST = "broadcast"


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


DEFAULT_SLA = {
    Urgency.EMERGENCY: timedelta(hours=2),
    Urgency.HIGH: timedelta(hours=24),
    Urgency.ROUTINE: timedelta(hours=72),
}


@dataclass
class Offer:
    provider_id: str
    org: str
    deadline: datetime
    status: OfferStatus = OfferStatus.OPEN
    reason: str | None = None


class OfferClosed(Exception):
    """An answer to an offer that is no longer open (taken by another, expired, withdrawn)."""


class NotOffered(Exception):
    """An answer from an organisation this referral was never offered to."""


@dataclass
class Referral:
    referral_id: str
    urgency: Urgency
    mode: OfferMode
    # Eligible providers, best first, as routing ranked them.
    candidates: list[Provider]
    status: Status = Status.REQUESTED
    offers: list[Offer] = field(default_factory=list)
    events: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def start(self, now: datetime, sla: dict[Urgency, timedelta] = DEFAULT_SLA) -> None:
        """Send the first offer (sequential) or offers to every candidate (broadcast)."""
        if self.offers:
            return
        targets = self.candidates if self.mode == OfferMode.BROADCAST else self.candidates[:1]
        if not targets:
            self._record("unmet", reason="no eligible provider")
        for p in targets:
            self._offer(p, now, sla)

    def _offer(self, p: Provider, now: datetime, sla: dict[Urgency, timedelta]) -> None:
        self.offers.append(Offer(p.provider_id, p.org, now + sla[self.urgency]))
        self._record("offered", provider_id=p.provider_id, org=p.org)

    def _record(self, name: str, **data: str) -> None:
        self.events.append((name, {"referral_id": self.referral_id, **data}))

    def _open_offer_of(self, org: str) -> Offer:
        mine = [o for o in self.offers if o.org == org]
        if not mine:
            raise NotOffered(org)
        for o in mine:
            if o.status == OfferStatus.OPEN:
                return o
        raise OfferClosed(f"no open offer for {org}")

    def accept(self, org: str) -> None:
        """`org` accepts: it wins, every other open offer is cancelled."""
        if self.status != Status.REQUESTED:
            raise OfferClosed("the referral was already answered")
        offer = self._open_offer_of(org)
        self.status = transition(self.status, Status.ACCEPTED)
        offer.status = OfferStatus.ACCEPTED
        self._record("accepted", provider_id=offer.provider_id, org=org)
        for other in self.offers:
            if other is not offer and other.status == OfferStatus.OPEN:
                other.status = OfferStatus.CANCELLED
                self._record("offer-cancelled", provider_id=other.provider_id, org=other.org)

    def reject(self, org: str, reason: str, now: datetime,
               sla: dict[Urgency, timedelta] = DEFAULT_SLA) -> None:
        """`org` declines: the next candidate gets the offer; with none left, the referral is
        rejected."""
        offer = self._open_offer_of(org)
        if not reason.strip():
            raise ValueError("a rejection needs a reason")
        offer.status, offer.reason = OfferStatus.REJECTED, reason
        self._record("offer-rejected", provider_id=offer.provider_id, org=org)
        self._escalate(now, sla, reason)

    def expire_overdue(self, now: datetime, sla: dict[Urgency, timedelta] = DEFAULT_SLA) -> None:
        """Cancel offers past their deadline and escalate to the next eligible provider."""
        if self.status != Status.REQUESTED:
            return
        expired = [o for o in self.offers if o.status == OfferStatus.OPEN and o.deadline <= now]
        for o in expired:
            o.status = OfferStatus.EXPIRED
            self._record("offer-expired", provider_id=o.provider_id, org=o.org)
        if expired:
            self._escalate(now, sla, "offer not answered in time")

    def _escalate(self, now: datetime, sla: dict[Urgency, timedelta], reason: str) -> None:
        if any(o.status == OfferStatus.OPEN for o in self.offers):
            return
        tried = {o.provider_id for o in self.offers}
        remaining = [p for p in self.candidates if p.provider_id not in tried]
        if self.mode == OfferMode.SEQUENTIAL and remaining:
            self._offer(remaining[0], now, sla)
            return
        self.status = transition(self.status, Status.REJECTED, reason)
        self._record("rejected", reason="no provider accepted")

    def advance(self, org: str | None, target: Status, reason: str | None = None) -> None:
        """A lifecycle step after acceptance, by the accepting organisation (or the referrer)."""
        if org is not None and not any(
            o.org == org and o.status == OfferStatus.ACCEPTED for o in self.offers
        ):
            raise NotOffered(org)
        self.status = transition(self.status, target, reason)
        if target in (Status.CANCELLED, Status.ENTERED_IN_ERROR):
            for o in self.offers:
                if o.status == OfferStatus.OPEN:
                    o.status = OfferStatus.CANCELLED
        self._record(target.value)
