"""Partners answer over REST: lifecycle, illegal steps, wrong partners, broadcast races."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from referral_builders import READ, provider_state, referral_body, upserted

from referral.service_layer.providers import project_provider
from referral.service_layer.referrals import Deps

Auth = Callable[[str], dict[str, str]]


def seed(deps: Deps, *states: object) -> None:
    with deps.uows() as uow:
        for s in states:
            project_provider(upserted(s), uow)  # type: ignore[arg-type]
        uow.commit()


def shelter_referral(client: TestClient, deps: Deps, auth: Auth) -> str:
    area = f"area-{uuid.uuid4().hex[:8]}"
    seed(deps, provider_state("shelter-a", area=area, women_only=True, child_qualified=True))
    r = client.post("/referrals", json=referral_body(uuid.uuid4(), area), headers=auth("ana"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def act(client: TestClient, auth: Auth, user: str, rid: str, action: str,
        reason: str | None = None) -> Any:
    body = {"reason": reason} if reason else None
    return client.post(f"/partner/referrals/{rid}/{action}", json=body, headers=auth(user))


def test_the_partner_accepts_starts_and_completes_and_the_referrer_sees_it(
        client: TestClient, deps: Deps, auth: Auth) -> None:
    rid = shelter_referral(client, deps, auth)
    for action, status in (("accept", "accepted"), ("start", "in-progress"),
                           ("hold", "on-hold"), ("resume", "in-progress"),
                           ("complete", "completed")):
        r = act(client, auth, "paula", rid, action)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    assert client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()["status"] == "completed"


def test_an_illegal_transition_is_a_409_problem(client: TestClient, deps: Deps,
                                                auth: Auth) -> None:
    rid = shelter_referral(client, deps, auth)
    assert act(client, auth, "paula", rid, "accept").status_code == 200
    r = act(client, auth, "paula", rid, "complete")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "a referral that is accepted cannot become completed"
    assert act(client, auth, "paula", rid, "accept").status_code == 409


def test_rejecting_or_failing_needs_a_reason_code(client: TestClient, deps: Deps,
                                                  auth: Auth) -> None:
    rid = shelter_referral(client, deps, auth)
    assert act(client, auth, "paula", rid, "reject").status_code == 422
    free_text = client.post(f"/partner/referrals/{rid}/reject", json={"reason": "Ana is ill"},
                            headers=auth("paula"))
    assert free_text.status_code == 422 and "Ana" not in free_text.text
    r = act(client, auth, "paula", rid, "reject", "no-capacity")
    assert r.status_code == 200 and r.json()["status"] == "rejected"

    started = shelter_referral(client, deps, auth)
    assert act(client, auth, "paula", started, "accept").status_code == 200
    assert act(client, auth, "paula", started, "start").status_code == 200
    missing = act(client, auth, "paula", started, "fail")
    assert missing.status_code == 422
    assert missing.headers["content-type"] == "application/problem+json"
    r = act(client, auth, "paula", started, "fail", "unreachable")
    assert r.status_code == 200 and r.json()["status"] == "failed"


def test_a_partner_never_offered_the_referral_cannot_touch_it(client: TestClient, deps: Deps,
                                                               auth: Auth) -> None:
    rid = shelter_referral(client, deps, auth)
    for action in ("accept", "reject", "start"):
        r = act(client, auth, "pedro", rid, action, "other")
        assert r.status_code == 404, r.text
    assert act(client, auth, "ana", rid, "accept").status_code == 403
    unknown = act(client, auth, "paula", str(uuid.uuid4()), "accept")
    assert unknown.status_code == 404
    got = client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()
    assert got["status"] == "requested" and got["offers"][0]["status"] == "open"


def test_two_simultaneous_acceptances_of_a_broadcast_have_exactly_one_winner(
        client: TestClient, deps: Deps, auth: Auth) -> None:
    area = f"area-{uuid.uuid4().hex[:8]}"
    seed(deps, provider_state("shelter-a", "counselling", area=area),
         provider_state("clinic-b", "counselling", area=area))
    auth("paula"), auth("pedro")  # fetch tokens before the race
    for _ in range(4):
        body = referral_body(uuid.uuid4(), area, "counselling", is_minor=False, age=30,
                             women_only=False, mode="broadcast")
        rid = client.post("/referrals", json=body, headers=auth("ana")).json()["id"]
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}

        def accept(user: str, rid: str = rid, barrier: threading.Barrier = barrier,
                   results: dict[str, int] = results) -> None:
            barrier.wait()
            results[user] = act(client, auth, user, rid, "accept").status_code

        threads = [threading.Thread(target=accept, args=(u,)) for u in ("paula", "pedro")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == [200, 409], results
        got = client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()
        accepted = [o["org"] for o in got["offers"] if o["status"] == "accepted"]
        winner = "shelter-a" if results["paula"] == 200 else "clinic-b"
        assert got["status"] == "accepted" and accepted == [winner]
        assert [o["status"] for o in got["offers"] if o["org"] != winner] == ["cancelled"]


def test_the_partner_reads_only_the_consented_facts_under_its_pseudonym(
        client: TestClient, deps: Deps, auth: Auth) -> None:
    area = f"area-{uuid.uuid4().hex[:8]}"
    seed(deps, provider_state("shelter-a", area=area, women_only=True, child_qualified=True))
    case_id = uuid.uuid4()
    rid = client.post("/referrals", json=referral_body(case_id, area),
                      headers=auth("ana")).json()["id"]
    r = client.get(f"/partner/referrals/{rid}", headers=auth("paula") | READ)
    assert r.status_code == 200
    seen = r.json()
    assert seen["shared"] == {"is_minor": True, "sex": "female", "languages": ["ti"]}
    assert seen["subject"].startswith("p-") and str(case_id) not in r.text
    assert seen["need"] == "shelter" and seen["offer_status"] == "open"
    assert client.get(f"/partner/referrals/{rid}", headers=auth("pedro") | READ).status_code == 404
    assert client.get(f"/partner/referrals/{rid}", headers=auth("ana") | READ).status_code == 403


def test_the_referrer_cancels_and_the_partner_is_told_and_loses_access(
        client: TestClient, deps: Deps, auth: Auth, topics) -> None:  # type: ignore[no-untyped-def]
    rid = shelter_referral(client, deps, auth)
    assert act(client, auth, "paula", rid, "accept").status_code == 200
    assert client.post(f"/referrals/{rid}/cancel", headers=auth("carla")).status_code == 404
    r = client.post(f"/referrals/{rid}/cancel", headers=auth("ana"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    seen = client.get(f"/partner/referrals/{rid}", headers=auth("paula") | READ).json()
    assert seen["status"] == "cancelled" and seen["shared"] is None and seen["subject"] is None
    assert act(client, auth, "paula", rid, "start").status_code == 409
    assert client.post(f"/referrals/{rid}/cancel", headers=auth("ana")).status_code == 409
    gone = topics["shelter-a"].wait_for(rid, "haven.partner.referral.withdrawn.v1")
    assert json.loads(gone.value)["outcome"] == "cancelled"
