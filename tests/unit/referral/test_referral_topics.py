"""Where referral's outbox rows go, and who a partner answer is from."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from kafka.consumer.fetcher import ConsumerRecord

from referral.adapters.partner_topics import (
    PartnerTopics,
    TopicStampedConsumer,
    org_of_responses_topic,
)


def row(event_type: str, **payload: Any) -> SimpleNamespace:
    return SimpleNamespace(type=event_type, aggregatetype="referral", payload=payload)


def test_partner_events_go_to_their_partner_s_topic_created_once() -> None:
    created: list[dict[str, int]] = []
    topics = PartnerTopics("kafka:9092", 3, ensure=lambda _b, t: created.append(dict(t)))
    offer = row("haven.partner.referral.offered.v1", partner_org="shelter-a")
    assert topics(offer) == "partner.shelter-a.referrals"
    assert topics(offer) == "partner.shelter-a.referrals"
    assert topics(row("haven.partner.referral.withdrawn.v1", partner_org="clinic-b")) == \
        "partner.clinic-b.referrals"
    assert topics(row("haven.referral.offered.v1", partner_org="shelter-a")) == \
        "referral.referral"
    assert created == [
        {"partner.shelter-a.referrals": 3, "partner.shelter-a.responses": 3},
        {"partner.clinic-b.referrals": 3, "partner.clinic-b.responses": 3},
        {"referral.referral": 3}]


def test_creating_a_partner_s_topics_wakes_the_responses_consumer_once() -> None:
    woken: list[bool] = []
    topics = PartnerTopics("kafka:9092", 3, ensure=lambda _b, _t: None,
                           on_new_topics=lambda: woken.append(True))
    for _ in range(3):
        topics(row("haven.partner.referral.offered.v1", partner_org="shelter-a"))
    topics(row("haven.referral.offered.v1", partner_org="shelter-a"))
    assert woken == [True]


class _Fake:
    def __init__(self, records: list[Any]) -> None:
        self.records = records

    def poll(self, timeout_ms: int = 0) -> dict[str, list[Any]]:
        return {"tp": self.records}


def record(topic: str, value: bytes) -> Any:
    fields = dict.fromkeys(ConsumerRecord._fields)
    fields.update(topic=topic, value=value, headers=[])
    return ConsumerRecord(**fields)


def test_an_answer_is_from_the_organisation_whose_topic_it_came_on_whatever_it_claims(
        ) -> None:
    claimed = json.dumps({"referral_id": "x", "partner_org": "shelter-a"}).encode()
    consumer = TopicStampedConsumer(_Fake([record("partner.clinic-b.responses", claimed),
                                            record("partner.clinic-b.responses", b"not json")]))
    stamped, unreadable = consumer.poll(timeout_ms=1)["tp"]
    assert json.loads(stamped.value)["partner_org"] == "clinic-b"
    assert unreadable.value == b"not json"
    assert org_of_responses_topic("partner.shelter-a.responses") == "shelter-a"
