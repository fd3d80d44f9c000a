"""Referrals over REST against the real stack: routing, consent, partner topics, alerts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from referral_builders import READ, provider_state, referral_body, upserted

from referral.service_layer.providers import project_provider
from referral.service_layer.referrals import Deps

Auth = Callable[[str], dict[str, str]]


def seed(deps: Deps, *states: object) -> None:
    """Project registry's provider events as the inbox handler does."""
    with deps.uows() as uow:
        for s in states:
            project_provider(upserted(s), uow)  # type: ignore[arg-type]
        uow.commit()


def test_a_girl_of_16_needing_women_only_shelter_goes_only_to_the_child_qualified_one(
        client: TestClient, deps: Deps, auth: Auth, topics) -> None:  # type: ignore[no-untyped-def]
    area = f"area-{uuid.uuid4().hex[:8]}"
    good = provider_state("shelter-a", area=area, women_only=True, child_qualified=True,
                          genders=("female",))
    adults_only = provider_state("shelter-a", area=area, women_only=True)
    mixed = provider_state("clinic-b", area=area, child_qualified=True)
    seed(deps, good, adults_only, mixed)
    case_id = uuid.uuid4()

    r = client.post("/referrals", json=referral_body(case_id, area), headers=auth("ana"))
    assert r.status_code == 201, r.text
    created = r.json()
    rid = created["id"]
    assert [(o["org"], o["provider_id"]) for o in created["offers"]] == [
        ("shelter-a", str(good.service_id))]

    got = client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()
    assert [c["provider_id"] for c in got["routing"]["chosen"]] == [str(good.service_id)]
    excluded = {e["provider_id"]: e["reasons"] for e in got["routing"]["excluded"]}
    assert excluded[str(adults_only.service_id)] == ["not qualified to serve children"]
    assert excluded[str(mixed.service_id)] == ["not a women-only shelter, which was requested"]
    assert got["alerts"] == []

    offer = topics["shelter-a"].wait_for(rid, "haven.partner.referral.offered.v1")
    body = json.loads(offer.value)
    assert body["need"] == "shelter" and body["shared"]["sex"] == "female"
    assert body["shared"]["age"] is None  # not consented
    headers = dict(offer.headers)
    message = offer.value.decode() + json.dumps({k: v.decode() for k, v in headers.items()})
    assert str(case_id) not in message and str(case_id).replace("-", "") not in message
    assert "name" not in body and "name" not in body["shared"]
    # Internal events arrived too; the partner topic of clinic-b never carried this referral.
    topics["referral"].wait_for(rid, "haven.referral.offered.v1")
    topics["clinic-b"].poll()
    assert topics["clinic-b"].of(rid) == []


def test_no_eligible_provider_is_an_unmet_need_event_and_a_visible_alert(
        client: TestClient, auth: Auth, topics) -> None:  # type: ignore[no-untyped-def]
    area = f"nowhere-{uuid.uuid4().hex[:8]}"
    r = client.post("/referrals", json=referral_body(uuid.uuid4(), area, "guardian"),
                    headers=auth("ana"))
    assert r.status_code == 201
    rid = r.json()["id"]
    assert client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()["alerts"][0]["kind"] \
        == "unmet-need"
    event = topics["referral"].wait_for(rid, "haven.referral.unmet-need.v1")
    assert json.loads(event.value)["need"] == "guardian"


def test_without_consent_a_referral_is_refused_unless_a_child_protection_override(
        client: TestClient, deps: Deps, auth: Auth) -> None:
    area = f"area-{uuid.uuid4().hex[:8]}"
    seed(deps, provider_state("shelter-a", area=area, women_only=True, child_qualified=True))
    refused = client.post("/referrals", json=referral_body(uuid.uuid4(), area, consent=False),
                          headers=auth("ana"))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/consent-required")

    adult = referral_body(uuid.uuid4(), area, consent=False, is_minor=False, age=30,
                          child_protection_override={"reason": "immediate danger"})
    assert client.post("/referrals", json=adult, headers=auth("ana")).status_code == 422

    # The override shares what it lists, here only that the person is a minor.
    minor = referral_body(uuid.uuid4(), area, consent=False, fields=("is_minor",),
                          child_protection_override={"reason": "child alone at the port"})
    r = client.post("/referrals", json=minor, headers=auth("ana"))
    assert r.status_code == 201
    assert r.json()["child_protection_override"] is True
    assert r.json()["shared_fields"] == ["is_minor"]


def test_only_caseworkers_of_the_owning_organisation_see_a_referral(
        client: TestClient, auth: Auth) -> None:
    r = client.post("/referrals", json=referral_body(uuid.uuid4(), "any"), headers=auth("ana"))
    rid = r.json()["id"]
    assert client.get(f"/referrals/{rid}", headers=auth("ben") | READ).status_code == 200
    assert client.get(f"/referrals/{rid}", headers=auth("carla") | READ).status_code == 404
    assert client.get(f"/referrals/{rid}", headers=auth("paula") | READ).status_code == 403
    assert client.post("/referrals", json=referral_body(uuid.uuid4(), "any"),
                       headers=auth("paula")).status_code == 403


def test_a_retried_request_with_the_same_idempotency_key_makes_one_referral(
        client: TestClient, auth: Auth) -> None:
    body = referral_body(uuid.uuid4(), "any")
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    first = client.post("/referrals", json=body, headers=auth("ana") | key)
    again = client.post("/referrals", json=body, headers=auth("ana") | key)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    changed = client.post("/referrals", json=referral_body(uuid.uuid4(), "any"),
                          headers=auth("ana") | key)
    assert changed.status_code == 409
    assert changed.json()["type"].endswith("/idempotency-key-reused")
