"""A partner organisation that appears after referral started is heard within seconds.

Regression: a partner's first answer on a `partner.<org>.responses` topic created after referral
started sat unread for minutes. Referral now creates a partner's responses topic together with
its referrals topic before the first offer leaves, and its responses consumer takes the new topic
in at once; a responses topic made by someone else is found by the periodic metadata refresh.

The app here runs with referral's default discovery settings (the suite's shared app polls
faster), on a database of its own, with its own consumer group started at the end of every
existing responses topic.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaAdminClient
from referral_builders import READ, provider_state, referral_body, upserted

from haven_shared.events.envelope import Envelope
from haven_shared.events.referral import PartnerReferralAnswered
from haven_shared.kafka import ensure_topics, make_producer
from haven_shared.testing.kafka_groups import start_group_at_end
from haven_shared.testing.stack import LocalStack
from referral.adapters.partner_topics import RESPONSES_PATTERN
from referral.bootstrap import bootstrap
from referral.config import Settings
from referral.service_layer.providers import project_provider
from referral.service_layer.referrals import Deps

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]
#: The bound of the issue: an answer is applied within this many seconds of being sent.
HEARD_WITHIN_S = 10.0


def _topics(bootstrap: str) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


@pytest.fixture(scope="module")
def fresh(stack: LocalStack) -> Iterator[TestClient]:
    """Referral with default topic discovery, already consuming when the new partners appear."""
    import re

    url = stack.create_database("referral_newpartner")
    group = f"referral-newpartner-{uuid.uuid4().hex[:8]}"
    pattern = re.compile(RESPONSES_PATTERN)
    for topic in sorted(t for t in _topics(stack.kafka_bootstrap) if pattern.match(t)):
        start_group_at_end(stack.kafka_bootstrap, f"{group}-partner-responses", topic)
    settings = Settings(environment="test", database_url=url,
                        kafka_bootstrap=stack.kafka_bootstrap, keycloak_issuer=stack.issuer,
                        jwt_leeway_seconds=0, master_key="referral-newpartner-master-key",
                        relay_idle_seconds=0.05, provider_consumer_enabled=False,
                        intake_consumer_enabled=False, escalation_interval_seconds=0,
                        consumer_group=group)
    assert settings.topic_discovery_ms == Settings.model_fields["topic_discovery_ms"].default
    app = bootstrap(settings)
    with TestClient(app) as client:
        time.sleep(3)  # the responses consumer joins its group
        yield client
    stack.drop_database(url)


def _send(bootstrap: str, topic: str, env: Envelope) -> float:
    producer = make_producer(bootstrap)
    producer.send(topic, key=env.key.encode(), value=env.body(), headers=env.kafka_headers()
                  ).get(timeout=30)
    sent = time.monotonic()
    producer.close()
    return sent


def _until(what: str, check: Callable[[], Any], timeout: float) -> float:
    """Seconds until `check()` is truthy; fails after `timeout`."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, what
        time.sleep(0.1)
    return time.monotonic()


def test_a_new_partner_s_first_answer_is_applied_within_seconds(
        stack: LocalStack, fresh: TestClient, auth: Auth) -> None:
    org = f"np{uuid.uuid4().hex[:10]}"
    responses = f"partner.{org}.responses"
    assert responses not in _topics(stack.kafka_bootstrap)
    area = f"area-{uuid.uuid4().hex[:8]}"
    deps: Deps = fresh.app.state.referral_deps  # type: ignore[attr-defined]
    with deps.uows() as uow:
        project_provider(upserted(provider_state(org, area=area, women_only=True,  # type: ignore[arg-type]
                                                 child_qualified=True)), uow)
        uow.commit()
    created = fresh.post("/referrals", json=referral_body(uuid.uuid4(), area),
                         headers=auth("ana"))
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert [o["org"] for o in created.json()["offers"]] == [org]
    # Referral made the partner's answer channel itself, with the offer's topic.
    _until("referral did not create the responses topic",
           lambda: responses in _topics(stack.kafka_bootstrap), 30)

    accept = Envelope.wrap(PartnerReferralAnswered(referral_id=uuid.UUID(rid), action="accept"),
                           f"/partners/{org}")
    sent = _send(stack.kafka_bootstrap, responses, accept)
    applied = _until(
        "the first answer was not applied",
        lambda: fresh.get(f"/referrals/{rid}", headers=auth("ana") | READ
                          ).json()["status"] == "accepted", 60)
    print(f"first answer of a new partner applied after {applied - sent:.2f} s")
    assert applied - sent < HEARD_WITHIN_S


def test_a_responses_topic_made_by_the_partner_itself_is_found_by_discovery(
        stack: LocalStack, fresh: TestClient, auth: Auth) -> None:
    org = f"np{uuid.uuid4().hex[:10]}"
    responses = f"partner.{org}.responses"
    ensure_topics(stack.kafka_bootstrap, {responses: 3})  # as the partner example does
    # An answer to a referral never offered to it: refused, and audited as denied.
    answer = Envelope.wrap(PartnerReferralAnswered(referral_id=uuid.uuid4(), action="accept"),
                           f"/partners/{org}")
    sent = _send(stack.kafka_bootstrap, responses, answer)

    def refused() -> bool:
        r = fresh.get("/audit/entries", params={"actor": f"partner:{org}"},
                      headers=auth("audrey"))
        return r.status_code == 200 and [e["outcome"] for e in r.json()["entries"]] == [
            "denied"]

    heard = _until("the answer on a partner-made topic was not read", refused, 60)
    print(f"answer on a partner-made responses topic read after {heard - sent:.2f} s")
    assert heard - sent < HEARD_WITHIN_S
