"""The services may not import each other, so each keeps its own copy of a shared vocabulary.

These tests hold every copy to the one in the shared event contract: a kind of service, need or
partner added in one place and forgotten in another fails here instead of being silently dropped
on the way between services.
"""

from __future__ import annotations

from typing import get_args

from haven_shared.events import intake as intake_events
from haven_shared.events import registry as registry_events
from intake.domain import support as intake_support
from referral.domain import routing
from referral.domain.assessment import NEED_KIND, URGENCY
from referral.domain.sharing import PARTNER_KIND
from registry.domain import directory


def test_service_kinds_are_the_same_in_registry_referral_and_the_event_contract() -> None:
    contract = set(get_args(registry_events.ServiceKindName))
    assert {k.value for k in directory.ServiceKind} == contract
    assert {k.value for k in routing.ServiceKind} == contract


def test_every_need_intake_accepts_is_routable_by_referral() -> None:
    contract = set(get_args(intake_events.NeedKind))
    assert set(intake_support.NEEDS) == contract
    assert set(NEED_KIND) == contract


def test_every_urgency_intake_sends_has_a_routing_urgency() -> None:
    assert set(URGENCY) == set(get_args(intake_events.Urgency))


def test_every_partner_kind_referral_asks_consent_for_exists_in_intake() -> None:
    kinds = set(get_args(intake_events.PartnerKind))
    assert set(PARTNER_KIND.values()) <= kinds


def test_every_service_kind_has_a_partner_kind_for_consent() -> None:
    assert set(PARTNER_KIND) == set(routing.ServiceKind)
