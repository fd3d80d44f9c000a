"""Offers escalate when unanswered, and a broadcast is won by exactly one provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from referral.domain.lifecycle import IllegalTransition, Status
from referral.domain.offers import NotOffered, OfferClosed, OfferMode, OfferStatus, Referral
from referral.domain.routing import Provider, ServiceKind, Urgency

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SLA = {Urgency.EMERGENCY: timedelta(hours=2), Urgency.HIGH: timedelta(hours=24),
       Urgency.ROUTINE: timedelta(hours=72)}


def providers(*names: str) -> list[Provider]:
    return [Provider(n, f"org-{n}", ServiceKind.SHELTER, capacity=1) for n in names]


def names(referral: Referral) -> list[tuple[str, str]]:
    return [(e[0], e[1].get("org", "")) for e in referral.events]


def test_an_unanswered_offer_escalates_to_the_next_provider_after_its_deadline() -> None:
    r = Referral("r1", Urgency.EMERGENCY, OfferMode.SEQUENTIAL, providers("a", "b"))
    r.start(T0, SLA)
    r.expire_overdue(T0 + timedelta(hours=1, minutes=59), SLA)
    assert [o.org for o in r.offers] == ["org-a"]
    r.expire_overdue(T0 + timedelta(hours=2), SLA)
    assert [(o.org, o.status) for o in r.offers] == [
        ("org-a", OfferStatus.EXPIRED), ("org-b", OfferStatus.OPEN)]
    assert r.offers[1].deadline == T0 + timedelta(hours=4)
    with pytest.raises(OfferClosed):
        r.accept("org-a")
    r.accept("org-b")
    assert r.status == Status.ACCEPTED


def test_when_every_provider_declines_the_referral_is_rejected() -> None:
    r = Referral("r2", Urgency.ROUTINE, OfferMode.SEQUENTIAL, providers("a", "b"))
    r.start(T0, SLA)
    r.reject("org-a", "no beds", T0, SLA)
    r.reject("org-b", "no staff", T0, SLA)
    assert r.status == Status.REJECTED
    assert names(r)[-1] == ("rejected", "")


def test_a_broadcast_offer_is_won_by_the_first_acceptance_only() -> None:
    r = Referral("r3", Urgency.HIGH, OfferMode.BROADCAST, providers("a", "b", "c"))
    r.start(T0, SLA)
    assert all(o.status == OfferStatus.OPEN for o in r.offers) and len(r.offers) == 3
    r.accept("org-b")
    with pytest.raises(OfferClosed):
        r.accept("org-a")
    assert [o.status for o in r.offers] == [OfferStatus.CANCELLED, OfferStatus.ACCEPTED,
                                            OfferStatus.CANCELLED]
    assert sum(1 for e in r.events if e[0] == "accepted") == 1


def test_an_organisation_that_was_not_offered_cannot_answer() -> None:
    r = Referral("r4", Urgency.HIGH, OfferMode.SEQUENTIAL, providers("a", "b"))
    r.start(T0, SLA)
    with pytest.raises(NotOffered):
        r.accept("org-z")
    with pytest.raises(NotOffered):  # b is next in line but has not been offered yet
        r.reject("org-b", "no beds", T0, SLA)
    r.accept("org-a")
    with pytest.raises(NotOffered):
        r.advance("org-b", Status.IN_PROGRESS)


def test_no_candidate_records_an_unmet_need() -> None:
    r = Referral("r5", Urgency.HIGH, OfferMode.SEQUENTIAL, [])
    r.start(T0, SLA)
    assert names(r) == [("unmet", "")]


def test_after_acceptance_the_provider_moves_the_referral_through_its_lifecycle() -> None:
    r = Referral("r6", Urgency.HIGH, OfferMode.SEQUENTIAL, providers("a"))
    r.start(T0, SLA)
    r.accept("org-a")
    r.advance("org-a", Status.IN_PROGRESS)
    r.advance("org-a", Status.ON_HOLD)
    r.advance("org-a", Status.IN_PROGRESS)
    r.advance("org-a", Status.COMPLETED)
    with pytest.raises(IllegalTransition):
        r.advance("org-a", Status.IN_PROGRESS)
    assert [e[0] for e in r.events][-4:] == ["in-progress", "on-hold", "in-progress", "completed"]
