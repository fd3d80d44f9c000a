"""Legal clocks against the real stack: intake's presumed-victim decision from `intake.case`
starts the reflection period; alerts at the configured offsets reach `referral.referral`."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from haven_shared.events.envelope import Envelope
from haven_shared.events.intake import VictimPresumed
from haven_shared.kafka import make_producer
from haven_shared.testing.stack import LocalStack
from referral.config import Settings
from referral.service_layer.deadlines import alert_tick
from referral.service_layer.referrals import Deps

Auth = Callable[[str], dict[str, str]]


def test_a_presumed_victim_s_reflection_period_is_listed_and_alerts_fire_at_the_offsets(
        stack: LocalStack, client: TestClient, deps: Deps, auth: Auth,
        referral_settings: Settings, topics) -> None:  # type: ignore[no-untyped-def]
    case_id = uuid.uuid4()
    decided = datetime.now(UTC).replace(microsecond=0)
    event = VictimPresumed.example().model_copy(
        update={"case_id": case_id, "organisation_id": "ngo-a", "decided_at": decided})
    env = Envelope.wrap(event, "/haven/intake")
    producer = make_producer(stack.kafka_bootstrap)
    producer.send(VictimPresumed.topic, key=env.key.encode(), value=env.body(),
                  headers=env.kafka_headers())
    producer.flush(30)
    producer.close()

    def mine() -> list[dict[str, str]]:
        listed = client.get("/deadlines", headers=auth("ana")).json()
        return [d for d in listed if d["case_id"] == str(case_id)]

    deadline = time.monotonic() + 60
    while not mine():
        assert time.monotonic() < deadline, "the reflection period was not recorded"
        time.sleep(0.3)
    due = datetime.fromisoformat(mine()[0]["due"])
    assert mine()[0]["kind"] == "reflection-period-end"
    assert due == decided + timedelta(days=referral_settings.reflection_days)
    other = client.get("/deadlines", headers=auth("carla")).json()
    assert str(case_id) not in json.dumps(other)

    permit = client.post("/deadlines", headers=auth("ana"), json={
        "case_id": str(case_id), "kind": "residence-permit-expiry",
        "due": (due + timedelta(days=60)).isoformat()})
    assert permit.status_code == 201
    assert [d["kind"] for d in client.get("/deadlines?mine=true", headers=auth("ana")).json()
            if d["case_id"] == str(case_id)] == ["residence-permit-expiry"]

    offsets = referral_settings.alert_offsets()
    alert_tick(deps.uows, due - offsets[0], offsets)
    alert_tick(deps.uows, due, offsets)
    approaching = topics["referral"].wait_for(str(case_id),
                                              "haven.referral.deadline.approaching.v1")
    breached = topics["referral"].wait_for(str(case_id), "haven.referral.deadline.breached.v1")
    assert json.loads(approaching.value)["offset_hours"] == 168
    assert json.loads(breached.value)["kind"] == "reflection-period-end"
