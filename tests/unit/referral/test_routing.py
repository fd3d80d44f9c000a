"""Routing chooses only providers who can help this person, and says why for every provider."""

from __future__ import annotations

from referral.domain.routing import (
    Need,
    Provider,
    ServiceKind,
    Survivor,
    Urgency,
    needs_to_route,
    route,
)

GIRL_16 = Survivor(is_minor=True, sex="female", age=16)
ADULT_MAN = Survivor(is_minor=False, sex="male", age=30)


def shelter(pid: str, **kw) -> Provider:  # type: ignore[no-untyped-def]
    return Provider(provider_id=pid, org=f"org-{pid}", kind=ServiceKind.SHELTER,
                    capacity=kw.pop("capacity", 3), **kw)


def test_a_16_year_old_girl_is_sent_only_to_child_qualified_women_only_shelters() -> None:
    providers = [
        shelter("mixed-adults"),
        shelter("women-adults", women_only=True),
        shelter("mixed-children", child_qualified=True),
        shelter("women-children", women_only=True, child_qualified=True),
    ]
    need = Need(ServiceKind.SHELTER, women_only_shelter=True)
    decision = route(need, GIRL_16, providers)
    assert [a.provider.provider_id for a in decision.chosen] == ["women-children"]
    reasons = {a.provider.provider_id: a.reasons for a in decision.excluded}
    assert "not qualified to serve children" in reasons["mixed-adults"]
    assert "not qualified to serve children" in reasons["women-adults"]
    assert reasons["mixed-children"] == ("not a women-only shelter, which was requested",)


def test_without_a_women_only_request_any_child_qualified_shelter_may_serve_a_girl() -> None:
    providers = [shelter("mixed-children", child_qualified=True),
                 shelter("women-children", women_only=True, child_qualified=True, capacity=1)]
    decision = route(Need(ServiceKind.SHELTER), GIRL_16, providers)
    assert {a.provider.provider_id for a in decision.chosen} == {"mixed-children", "women-children"}


def test_no_capacity_inactive_wrong_kind_and_wrong_area_are_excluded_with_reasons() -> None:
    providers = [
        shelter("full", capacity=0),
        shelter("closed", active=False),
        Provider("clinic", "org-clinic", ServiceKind.MEDICAL, capacity=5),
        shelter("far", areas=frozenset({"north"})),
        shelter("near", areas=frozenset({"south"})),
    ]
    decision = route(Need(ServiceKind.SHELTER, area="south"), ADULT_MAN, providers)
    assert [a.provider.provider_id for a in decision.chosen] == ["near"]
    reasons = {a.provider.provider_id: a.reasons for a in decision.excluded}
    assert reasons["full"] == ("no free capacity",)
    assert reasons["closed"] == ("not active",)
    assert reasons["clinic"] == ("offers medical, not shelter",)
    assert reasons["far"] == ("does not serve the area",)


def test_a_women_only_shelter_does_not_receive_a_man() -> None:
    providers = [shelter("w", women_only=True, accepts_sexes=frozenset({"female"}))]
    decision = route(Need(ServiceKind.SHELTER), ADULT_MAN, providers)
    assert decision.unmet
    assert decision.excluded[0].reasons == ("does not serve the person's sex",)


def test_no_eligible_provider_is_an_unmet_need() -> None:
    decision = route(Need(ServiceKind.LEGAL_AID), ADULT_MAN, [shelter("s")])
    assert decision.unmet and not decision.chosen and len(decision.excluded) == 1


def test_language_and_staff_gender_preferences_rank_but_do_not_exclude() -> None:
    providers = [
        Provider("a", "org-a", ServiceKind.COUNSELLING, capacity=9, languages=frozenset({"en"})),
        Provider("b", "org-b", ServiceKind.COUNSELLING, capacity=1,
                 languages=frozenset({"ti"}), staff_genders=frozenset({"female"})),
        Provider("c", "org-c", ServiceKind.COUNSELLING, capacity=2, languages=frozenset({"ti"})),
    ]
    need = Need(ServiceKind.COUNSELLING, languages=("ti",), staff_gender="female")
    decision = route(need, ADULT_MAN, providers)
    assert [a.provider.provider_id for a in decision.chosen] == ["b", "c", "a"]
    assert "no preferred language; interpretation needed" in decision.chosen[2].reasons


def test_age_limits_of_a_service_are_respected() -> None:
    p = Provider("youth", "org-y", ServiceKind.REINTEGRATION, capacity=1, min_age=18, max_age=25)
    assert route(Need(ServiceKind.REINTEGRATION), Survivor(False, age=30), [p]).unmet
    assert not route(Need(ServiceKind.REINTEGRATION), Survivor(False, age=20), [p]).unmet


def test_a_minor_always_gets_a_guardian_need_routed() -> None:
    needs = needs_to_route([Need(ServiceKind.SHELTER, area="south")], GIRL_16)
    assert [n.kind for n in needs] == [ServiceKind.SHELTER, ServiceKind.GUARDIAN]
    assert needs[1].urgency == Urgency.HIGH and needs[1].area == "south"
    assert needs_to_route([Need(ServiceKind.SHELTER)], ADULT_MAN) == [Need(ServiceKind.SHELTER)]
    listed = [Need(ServiceKind.GUARDIAN)]
    assert needs_to_route(listed, GIRL_16) == listed
