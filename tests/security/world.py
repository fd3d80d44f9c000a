"""A small Haven world for the security suites, built once through the public APIs.

The three services run in-process on databases of their own on the shared PostgreSQL, with
real Keycloak tokens. Two NGOs with two caseworkers each (ngo-a: ana, ben; ngo-b: carla, dan)
and two partners (shelter-a: paula; clinic-b: pedro) own the objects; each object is built so
that it stands in one *relation* to the personas the authorisation matrix calls with:

- `own_assigned`: a case of ngo-a assigned to the ngo-a personas (ana, chris, sara);
- `own_unassigned`: a case of ngo-a assigned to ben only;
- `other_org`: a case of ngo-b (carla, dan);
- `shared_referral`: a case of ngo-a referred to shelter-a (paula's organisation);
- `minor`: a minor's case of ngo-a (opened by chris, assigned to the ngo-a personas too).

Background workers (relays, consumers) are off: authorisation is decided by the APIs alone.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from haven_shared.testing.stack import LocalStack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "referral"))

from referral_builders import provider_state, upserted  # noqa: E402

READ = {"X-Purpose-Of-Use": "case-management"}
KINDS = ("missing-person", "found-person", "unidentified-remains", "survivor-support")
CASE_RELATIONS = ("own_assigned", "own_unassigned", "other_org", "minor")


def missing_person() -> dict[str, Any]:
    return {
        "names": [{"text": "Amani Tesfaye", "script": "Latn", "romanised": True}],
        "sex": "female",
        "date_of_birth": "1996-03-14",
        "nationalities": ["ER"],
        "languages": ["ti"],
        "last_seen": {"place": "Zuwara, Libya", "date": "2025-06-02", "circumstances": "shipwreck"},
        "enquirer": {
            "name": "Selam Tesfaye",
            "relationship": "sibling",
            "contact": "+31 6 0000 0000",
        },
        "sharing_scope": ["tracing-service"],
    }


def found_person() -> dict[str, Any]:
    return {
        "names": [{"text": "Youssef Benali"}],
        "sex": "male",
        "estimated_age": 30,
        "nationalities": ["MA"],
        "found_setting": "hospital",
        "found_place": "Almería general hospital",
        "found_date": "2025-09-10",
    }


def remains() -> dict[str, Any]:
    return {
        "found_place": "Beach near Lampedusa",
        "found_date": "2025-07-01",
        "estimated_sex": "male",
        "estimated_age_min": 25,
        "estimated_age_max": 35,
    }


def screening() -> dict[str, Any]:
    return {"indicators": ["false-job-offer", "documents-confiscated"]}


def assessment() -> dict[str, Any]:
    return {"needs": [{"kind": "shelter", "urgency": "high"}], "languages": ["ti"]}


def consent() -> dict[str, Any]:
    return {"purpose": "services", "partner_kinds": ["shelter"], "given_by": "person"}


def decision(outcome: str = "negative") -> dict[str, Any]:
    return {
        "stage": "reasonable-grounds",
        "outcome": outcome,
        "decision_date": "2026-01-10",
        "reasons": "Indicators weighed by the supervisor.",
    }


def organisation(name: str, code: str) -> dict[str, Any]:
    return {"name": name, "code": code, "description": "Partner organisation"}


def service(org_id: str, kind: str, name: str) -> dict[str, Any]:
    return {
        "organisation_id": org_id,
        "name": name,
        "kind": kind,
        "eligibility": {"women_only": kind == "shelter", "child_qualified": True},
        "languages": ["en"],
        "areas": [{"name": "Catania"}],
        "capacity": {"unit": "bed", "available": 3, "maximum": 10},
    }


def referral(case_id: str, area: str, kind: str, *, minor: bool = False) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "need": {
            "kind": kind,
            "urgency": "high",
            "area": area,
            "languages": ["ti"],
            "women_only_shelter": kind == "shelter",
        },
        "survivor": {"is_minor": minor, "sex": "female", "age": 16 if minor else 30},
        "consent": {"given": True, "shared_fields": ["is_minor", "sex"]},
        "mode": "sequential",
    }


@dataclass
class World:
    """The running apps, a token cache and the ids of every object, by relation."""

    stack: LocalStack
    clients: dict[str, TestClient]
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)

    tokens: dict[str, tuple[float, str]] = field(default_factory=dict)

    def token(self, user: str) -> str:
        """A real token of `user`, fetched again when it is a minute old."""
        at, token = self.tokens.get(user, (0.0, ""))
        if time.monotonic() - at > 60:
            for attempt in range(6):
                try:
                    token = self.stack.password_token(user)
                    break
                except httpx.HTTPStatusError:
                    # The realm locks a user out briefly after failed logins (brute-force
                    # protection), which another suite's wrong-password test may cause.
                    if attempt == 5:
                        raise
                    time.sleep(10)
            self.tokens[user] = (time.monotonic(), token)
        return token

    def headers(self, user: str | None) -> dict[str, str]:
        return {} if user is None else {"Authorization": f"Bearer {self.token(user)}"}

    def call(
        self,
        service: str,
        user: str | None,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        headers = {**self.headers(user), **READ}
        return self.clients[service].request(
            method, path, json=json, params=params, headers=headers
        )

    def ok(self, service: str, user: str, method: str, path: str, json: Any = None) -> Any:
        r = self.call(service, user, method, path, json=json)
        assert r.status_code in (200, 201), f"{method} {path} as {user}: {r.text}"
        return r.json()


def settings_for(stack: LocalStack, service: str, url: str) -> Any:
    from intake.config import Settings as IntakeSettings
    from referral.config import Settings as ReferralSettings
    from registry.config import Settings as RegistrySettings

    common: dict[str, Any] = {
        "environment": "test",
        "database_url": url,
        "kafka_bootstrap": stack.kafka_bootstrap,
        "keycloak_issuer": stack.issuer,
        "jwt_leeway_seconds": 0,
        "master_key": f"security-{service}-master-key",
    }
    if service == "intake":
        return IntakeSettings(**common, embedded_worker=False)
    if service == "referral":
        return ReferralSettings(
            **common,
            relay_enabled=False,
            provider_consumer_enabled=False,
            partner_responses_enabled=False,
            intake_consumer_enabled=False,
            escalation_interval_seconds=0,
        )
    return RegistrySettings(**common, relay_enabled=False, index_consumer_enabled=False)


def app_factories() -> dict[str, Callable[[Any], Any]]:
    from intake.bootstrap import bootstrap as intake_app
    from referral.bootstrap import bootstrap as referral_app
    from registry.bootstrap import bootstrap as registry_app

    return {"intake": intake_app, "referral": referral_app, "registry": registry_app}


def build(world: World) -> None:
    """Create every object the matrix and the mass-assignment tests address."""
    ids = world.ids
    _build_intake(world, ids)
    _build_registry(world, ids)
    _build_referral(world, ids)


def _open(world: World, user: str, kind: str, *, minor: bool = False) -> str:
    person = (
        {}
        if kind == "unidentified-remains"
        else {"display_name": "A. Person", "estimated_age": 15 if minor else 30}
    )
    body = {"kind": kind, "risk_level": "medium", "is_minor": minor, "person": person}
    return str(world.ok("intake", user, "POST", "/cases", body)["id"])


def _build_intake(world: World, ids: dict[str, dict[str, str]]) -> None:
    owners = {
        "own_assigned": ("ben", ["ana", "chris", "sara"]),
        "own_unassigned": ("ben", []),
        "other_org": ("carla", ["dan"]),
        "minor": ("chris", ["ana", "sara"]),
    }
    for rel, (owner, assignees) in owners.items():
        got: dict[str, str] = {}
        for kind in KINDS:
            case = _open(world, owner, kind, minor=rel == "minor")
            for who in assignees:
                world.ok("intake", owner, "POST", f"/cases/{case}/assignees", {"username": who})
            got[kind] = case
        got["case"] = got["survivor-support"]
        got["missing_report"] = world.ok(
            "intake",
            owner,
            "POST",
            f"/cases/{got['missing-person']}/missing-person-reports",
            missing_person(),
        )["id"]
        got["found_record"] = world.ok(
            "intake", owner, "POST", f"/cases/{got['found-person']}/found-persons", found_person()
        )["id"]
        got["remains"] = world.ok(
            "intake", owner, "POST", f"/cases/{got['unidentified-remains']}/remains", remains()
        )["id"]
        survivor = got["survivor-support"]
        got["screening"] = world.ok(
            "intake", owner, "POST", f"/cases/{survivor}/screenings", screening()
        )["id"]
        got["assessment"] = world.ok(
            "intake", owner, "POST", f"/cases/{survivor}/needs-assessments", assessment()
        )["id"]
        got["consent"] = world.ok(
            "intake", owner, "POST", f"/cases/{survivor}/consents", consent()
        )["id"]
        if rel != "other_org":  # ngo-b has no supervisor in the realm
            world.ok(
                "intake",
                "sara",
                "POST",
                f"/cases/{survivor}/screenings/{got['screening']}/decisions",
                decision(),
            )
        # A case of its own for erasure, so erasing it leaves the others readable.
        got["erasable"] = _open(world, owner, "found-person", minor=rel == "minor")
        ids[rel] = got
    ids["shared_referral"] = dict(ids["own_assigned"])


def _build_registry(world: World, ids: dict[str, dict[str, str]]) -> None:
    reg: dict[str, str] = {}
    for code, kind in (("shelter-a", "shelter"), ("clinic-b", "counselling")):
        org = world.ok(
            "registry",
            "dora",
            "POST",
            "/directory/organisations",
            organisation(f"{code} {uuid.uuid4().hex[:6]}", code),
        )["id"]
        svc = world.ok(
            "registry",
            "dora",
            "POST",
            "/directory/services",
            service(org, kind, f"{kind} of {code}"),
        )["id"]
        spare = world.ok(
            "registry",
            "dora",
            "POST",
            "/directory/services",
            service(org, kind, f"second {kind} of {code}"),
        )["id"]
        reg[f"{code}:org"], reg[f"{code}:service"], reg[f"{code}:spare"] = org, svc, spare
    world.bodies["hsds_page"] = world.call(
        "registry",
        "dora",
        "GET",
        "/directory/hsds/services",
        params={"organisation_id": reg["clinic-b:org"]},
    ).json()
    reg["match_living"], reg["match_remains"], reg["match_minor"] = _propose(world)
    reg.update(_family_notification_tasks(world))
    ids["registry"] = reg


def _family_notification_tasks(world: World) -> dict[str, str]:
    """A family-notification task of ngo-a (the ngo-a personas' own) and one of ngo-b."""
    from registry.adapters.notification_repository import FamilyNotificationRepository
    from registry.domain.family_notification import FamilyNotificationTask, NotificationKind

    state = world.clients["registry"].app.state  # type: ignore[attr-defined]
    out = {}
    for org in ("ngo-a", "ngo-b"):
        task = FamilyNotificationTask.open(
            uuid.uuid4(), uuid.uuid4(), NotificationKind.FAMILY_LINK, uuid.uuid4(),
            f"intake/missing-person/{uuid.uuid4()}", org, state.clock(),
        )
        with state.unit_of_work() as uow:
            FamilyNotificationRepository(uow.session).save(task)
            uow.commit()
        out[f"task:{org}"] = str(task.id)
    return out


def _propose(world: World) -> tuple[str, str, str]:
    """A living match, a match of remains, and a living match of a child's record."""
    from registry.matching import (
        AgeEstimate,
        BirthDate,
        MatchIndex,
        PersonRecord,
        RecordKind,
        Sighting,
    )
    from registry.service_layer.match_review import propose_matches

    state = world.clients["registry"].app.state  # type: ignore[attr-defined]
    out = []
    plan = ((RecordKind.FOUND_PERSON, False), (RecordKind.UNIDENTIFIED_REMAINS, False),
            (RecordKind.FOUND_PERSON, True))
    for kind, child in plan:
        case = uuid.uuid4().hex[:8]
        missing = PersonRecord(
            f"case-{case}/missing-1",
            RecordKind.MISSING_PERSON_REPORT,
            given_names=("Mohammed",),
            family_names=("Abdullahi", "Hassan"),
            sex="m",
            birth_date=BirthDate(1994, 3, 2),
            last_seen=Sighting(dt.date(2025, 6, 1), 35.9, 14.4),
        )
        other = PersonRecord(
            f"case-{case}/{kind.value}-1",
            kind,
            given_names=("Maxamed",),
            family_names=("Cabdullaahi", "Xasan"),
            sex="m",
            birth_date=BirthDate(1994, 3, 2),
            age_estimate=AgeEstimate(28, 35, dt.date(2025, 6, 20)),
            found=Sighting(dt.date(2025, 6, 20), 35.95, 14.5),
        )
        index = MatchIndex()
        propose_matches(state.unit_of_work(), index, missing, state.clock(), threshold=0.5)
        [candidate] = propose_matches(
            state.unit_of_work(),
            index,
            other,
            state.clock(),
            threshold=0.5,
            minors={missing.record_id} if child else (),
        )
        assert candidate.involves_minor is child
        out.append(str(candidate.id))
    return out[0], out[1], out[2]


def _build_referral(world: World, ids: dict[str, dict[str, str]]) -> None:
    from referral.service_layer.providers import project_provider

    deps = world.clients["referral"].app.state.referral_deps  # type: ignore[attr-defined]
    area = f"area-{uuid.uuid4().hex[:8]}"
    world.bodies["area"] = area
    with deps.uows() as uow:
        for state in (
            provider_state(
                "shelter-a", "shelter", area=area, women_only=True, child_qualified=True
            ),
            provider_state("clinic-b", "counselling", area=area),
        ):
            project_provider(upserted(state), uow)  # type: ignore[arg-type]
        uow.commit()
    plan = {
        "own_assigned": ("ana", "shelter"),
        "own_unassigned": ("ben", "shelter"),
        "other_org": ("carla", "counselling"),
        "minor": ("chris", "shelter"),
    }
    for rel, (user, kind) in plan.items():
        case = ids[rel]["case"]
        r = world.ok(
            "referral", user, "POST", "/referrals", referral(case, area, kind, minor=rel == "minor")
        )
        assert r["offers"], r
        ids[rel]["referral"] = r["id"]
        ids[rel]["cancellable"] = world.ok(
            "referral", user, "POST", "/referrals", referral(case, area, kind, minor=rel == "minor")
        )["id"]
        ids[rel]["deadline"] = world.ok(
            "referral",
            user,
            "POST",
            "/deadlines",
            {
                "case_id": case,
                "kind": "residence-permit-expiry",
                "due": (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat(),
            },
        )["id"]
    ids["shared_referral"].update(ids["own_assigned"])
    # The other partner has answered the referral offered to it.
    world.ok(
        "referral", "pedro", "POST", f"/partner/referrals/{ids['other_org']['referral']}/accept"
    )
