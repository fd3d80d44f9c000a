"""The §17 closed loop across all three services on the real stack, through Kafka only:

a directory admin registers a women-only, child-qualified shelter (registry) → referral's read
model learns it from `registry.provider`; a caseworker records consent and a needs assessment for
a 16-year-old girl (intake) → referral routes the shelter need and offers it on the partner's own
topic; the partner answers on its responses topic with a client-credentials identity → the case
in intake shows the referral completed.

It runs twice: on the shared PLAINTEXT test broker, and on a broker of its own in secured mode,
where every service connects with its own Keycloak client (SASL/OAUTHBEARER) and holds only the
ACLs derived from the documented topology, and the partner only its own two topics.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import TopicPartition

from haven_shared.events.envelope import Envelope
from haven_shared.events.referral import PartnerReferralAnswered, partner_topic
from haven_shared.kafka import ensure_topics, make_consumer, make_producer
from haven_shared.kafka_acls import all_acls, apply_acls
from haven_shared.kafka_auth import KeycloakTokenProvider, oauth_client_options
from haven_shared.testing.kafka_groups import start_group_at_end
from haven_shared.testing.secured_kafka import secured_kafka
from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap as intake_app
from intake.config import Settings as IntakeSettings
from referral.bootstrap import bootstrap as referral_app
from referral.config import Settings as ReferralSettings
from registry.bootstrap import bootstrap as registry_app
from registry.config import Settings as RegistrySettings


@dataclass
class Broker:
    """Where the services and the partner connect, and as whom."""

    bootstrap: str
    partner: str  # the partner organisation's code
    service_options: dict[str, Any] = field(default_factory=dict)  # settings of each service
    partner_security: dict[str, Any] = field(default_factory=dict)  # kafka-python options
    admin_bootstrap: str = ""  # the operator's listener, where partner topics are created
    admin: dict[str, Any] = field(default_factory=dict)  # kafka-python options of the operator

    @property
    def responses(self) -> str:
        return f"partner.{self.partner}.responses"


@pytest.fixture(scope="module", params=["plaintext", "secured"])
def broker(request: pytest.FixtureRequest, stack: LocalStack) -> Iterator[Broker]:
    if request.param == "plaintext":
        # A partner organisation of this test's own, so that providers other suites leave on
        # the shared broker never take its offers, and its topics hold only this test's traffic.
        yield Broker(stack.kafka_bootstrap, f"shelter-e2e-{uuid.uuid4().hex[:6]}")
        return
    with secured_kafka(stack) as kafka:
        apply_acls(kafka.admin_options(), all_acls(["shelter-a"]))
        partner = KeycloakTokenProvider(stack.token_url, "partner-shelter-a",
                                        stack.secrets["HAVEN_PARTNER_SHELTER_A_SECRET"])
        yield Broker(
            kafka.client_bootstrap, "shelter-a",
            service_options={"kafka_security_protocol": "SASL_PLAINTEXT",
                             "kafka_client_secret": stack.secrets["HAVEN_SERVICE_SECRET"]},
            partner_security=oauth_client_options(partner),
            admin_bootstrap=kafka.internal_bootstrap,
            admin={k: v for k, v in kafka.admin_options().items() if k != "bootstrap_servers"},
        )


def _common(stack: LocalStack, broker: Broker, service: str) -> dict[str, Any]:
    return {"environment": "test", "database_url": stack.create_database(f"{service}_e2e"),
            "kafka_bootstrap": broker.bootstrap, "keycloak_issuer": stack.issuer,
            "jwt_leeway_seconds": 0, **broker.service_options}


@pytest.fixture(scope="module")
def services(stack: LocalStack, broker: Broker) -> Iterator[dict[str, TestClient]]:
    """The three services on databases of their own, each with its relay and consumers, in
    consumer groups of their own so that other suites' apps on the same broker don't take
    their partitions."""
    run = uuid.uuid4().hex[:8]
    # Groups of this run's own on the shared broker; the configured names (the ones the ACLs
    # grant) on the secured broker, which holds only this test's traffic.
    groups: dict[str, dict[str, str]] = {"referral": {}, "intake": {}}
    if not broker.admin_bootstrap:
        groups = {"referral": {"consumer_group": f"e2e-{run}"},
                  "intake": {"outcome_consumer_group": f"e2e-intake-{run}"}}
        # Referral's read model starts from providers announced from now on: the directory
        # topic of the shared broker also holds what other suites registered there.
        start_group_at_end(broker.bootstrap, f"e2e-{run}", "registry.provider")
        # ...and intake's case events from now on (the shared topic holds thousands of others).
        start_group_at_end(broker.bootstrap, f"e2e-{run}-intake", "intake.case")
        start_group_at_end(broker.bootstrap, f"e2e-intake-{run}", "referral.referral")
        ensure_topics(broker.bootstrap, {"intake.case": 3, "registry.provider": 3,
                                         "referral.referral": 3, "registry.match": 3,
                                         partner_topic(broker.partner): 3, broker.responses: 3})
    else:
        # On the secured broker the partner's topics are provisioned by the operator (the
        # partner may not create topics); the services create their own.
        ensure_topics(broker.admin_bootstrap, {partner_topic(broker.partner): 3,
                                               broker.responses: 3}, security=broker.admin)
    apps = {
        "registry": registry_app(RegistrySettings(**_common(stack, broker, "registry"),
                                                  relay_idle_seconds=0.05)),
        "referral": referral_app(ReferralSettings(
            **_common(stack, broker, "referral"), **groups["referral"], relay_idle_seconds=0.05,
            topic_discovery_ms=1000, escalation_interval_seconds=0,
            master_key="e2e-referral-master-key")),
        "intake": intake_app(IntakeSettings(**_common(stack, broker, "intake"),
                                            **groups["intake"])),
    }
    clients = {name: TestClient(app) for name, app in apps.items()}
    for client in clients.values():
        client.__enter__()
    try:
        yield clients
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)
        for app in apps.values():
            app.state.engine.dispose()
            stack.drop_database(str(app.state.engine.url.render_as_string(hide_password=False)))


def _until(what: str, probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return value


def _partner_offer(broker: Broker, case_referral: str) -> dict[str, Any]:
    consumer = make_consumer(broker.bootstrap, f"partner-{broker.partner}-{uuid.uuid4().hex[:6]}",
                             security=broker.partner_security)
    topic = partner_topic(broker.partner)
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    try:
        def find() -> Any:
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    if r.key == case_referral.encode():
                        return r
            return None
        record = _until("the offer on the partner's topic", find)
    finally:
        consumer.close()
    return {"headers": dict(record.headers), "body": json.loads(record.value)}


def _answer(broker: Broker, referral_id: str, action: str) -> None:
    event = PartnerReferralAnswered(referral_id=uuid.UUID(referral_id), action=action)
    env = Envelope.wrap(event, f"/partners/{broker.partner}")
    producer = make_producer(broker.bootstrap, security=broker.partner_security)
    producer.send(broker.responses, key=env.key.encode(), value=env.body(), headers=env.kafka_headers())
    producer.flush(30)
    producer.close()


def test_a_girl_s_shelter_need_reaches_the_partner_and_its_completion_comes_back_to_the_case(
    stack: LocalStack, broker: Broker, services: dict[str, TestClient]
) -> None:
    def auth(user: str) -> dict[str, str]:
        # Reads of a case say why they are made (audited by intake).
        return {"Authorization": f"Bearer {stack.password_token(user)}",
                "X-Purpose-Of-Use": "survivor-support"}

    registry, referral, intake = services["registry"], services["referral"], services["intake"]

    # The directory: one shelter that fits, one that does not (not child-qualified).
    fitting_service = ""
    org = registry.post("/directory/organisations", headers=auth("dora"), json={
        "name": "Safe Harbour", "description": "Shelter for women.", "code": broker.partner})
    assert org.status_code == 201, org.text
    for child_qualified, name in ((True, "Girls' shelter"), (False, "Adult women's shelter")):
        service = registry.post("/directory/services", headers=auth("dora"), json={
            "organisation_id": org.json()["id"], "name": name, "kind": "shelter",
            "eligibility": {"genders": ["female"], "women_only": True,
                            "child_qualified": child_qualified},
            "languages": ["ti", "en"], "capacity": {"unit": "bed", "available": 3}})
        assert service.status_code == 201, service.text
        if child_qualified:
            fitting_service = service.json()["id"]

    # Intake: a 16-year-old survivor, consent to share with shelters, a shelter need.
    case = intake.post("/cases", headers=auth("chris"), json={
        "kind": "survivor-support", "person": {"display_name": "Canary Selam", "estimated_age": 16}})
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    assert case.json()["is_minor"] is True
    consent = intake.post(f"/cases/{case_id}/consents", headers=auth("chris"),
                          json={"purpose": "services", "partner_kinds": ["shelter"]})
    assert consent.status_code == 201, consent.text
    needs = intake.post(f"/cases/{case_id}/needs-assessments", headers=auth("chris"), json={
        "needs": [{"kind": "shelter", "urgency": "immediate"}],
        "women_only_shelter": True, "languages": ["ti"]})
    assert needs.status_code == 201, needs.text

    # Referral routed it from intake's event to the only fitting shelter.
    view = _until("the referral", lambda: referral.get(
        f"/cases/{case_id}/referrals", headers=auth("chris")).json().get("referrals"))
    shelter_referral = next(r for r in view if r["need"] == "shelter")
    referral_id = shelter_referral["id"]
    detail = referral.get(f"/referrals/{referral_id}", headers=auth("chris")).json()
    assert [o["provider_id"] for o in detail["offers"]] == [fitting_service]

    # The partner sees the offer on its own topic: no case id, no name.
    offer = _partner_offer(broker, referral_id)
    raw = json.dumps(offer["body"])
    assert case_id not in raw and "Canary" not in raw

    for action in ("accept", "start", "complete"):
        _answer(broker, referral_id, action)

    def completed_on_the_case() -> Any:
        body = intake.get(f"/cases/{case_id}/outcomes", headers=auth("chris")).json()
        return [r for r in body.get("referrals", [])
                if r.get("referral_id", r.get("id")) == referral_id
                and r.get("status") == "completed"]

    _until("the completion on intake's case", completed_on_the_case, timeout=90)
    # Another organisation still cannot see the case or its outcomes.
    assert intake.get(f"/cases/{case_id}/outcomes", headers=auth("carla")).status_code == 404
