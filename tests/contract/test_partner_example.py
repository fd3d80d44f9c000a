"""The partner example (examples/partner/) speaks Haven's partner contract both ways."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka

from haven_shared.events import CATALOGUE, Envelope
from haven_shared.events.referral import PartnerReferralAnswered, PartnerReferralOffered

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partner" / "shelter_partner.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shelter_partner", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["shelter_partner"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


partner = _load()
SETTINGS = partner.PartnerSettings(org="shelter-a", client_id="partner-shelter-a",
                                   client_secret="s", kafka_bootstrap="unused:9092",
                                   issuer="http://keycloak.invalid/realms/haven",
                                   referral_url="http://referral.invalid")


class _Sent:
    def get(self, timeout: float) -> None:
        return None


class _Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = []

    def send(self, topic: str, *, key: bytes, value: bytes,
             headers: list[tuple[str, bytes]]) -> _Sent:
        self.sent.append((topic, key, value, headers))
        return _Sent()


class _Credentials:
    def token(self) -> str:
        return "partner-token"


def _offer_as_haven_sends_it() -> Any:
    envelope = Envelope.wrap(PartnerReferralOffered.example(), "/haven/referral")
    message = ce_kafka.KafkaMessage(headers=dict(envelope.kafka_headers()),
                                    key=envelope.key.encode(), value=envelope.body())
    return ce_kafka.from_binary_event(message)


def test_the_answer_is_a_cloudevent_haven_decodes_as_partner_referral_answered() -> None:
    event = partner.answer_event(SETTINGS, "0b7c6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e", "reject",
                                 "no-capacity")
    message = ce_kafka.to_binary_event(event, key_mapper=lambda e: str(e.get_subject()))
    envelope = Envelope.from_kafka(list(message.headers.items()), message.value)
    decoded = CATALOGUE.decode(envelope.type, envelope.data)
    assert isinstance(decoded, PartnerReferralAnswered)
    assert (str(decoded.referral_id), decoded.action, decoded.reason) == (
        "0b7c6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e", "reject", "no-capacity")
    assert envelope.source == "/partners/shelter-a"


def test_an_offer_is_looked_up_and_answered_on_the_partners_responses_topic(
        monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[tuple[str, str]] = []

    def fake_get(url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        looked_up.append((url, headers["Authorization"]))
        return type("Response", (), {"status_code": 200})()

    monkeypatch.setattr(partner.httpx, "get", fake_get)
    producer = _Producer()
    offer = PartnerReferralOffered.example()
    assert partner.handle(_offer_as_haven_sends_it(), SETTINGS, _Credentials(), producer,
                          "accept") is True
    assert looked_up == [(f"http://referral.invalid/partner/referrals/{offer.referral_id}",
                          "Bearer partner-token")]
    [(topic, key, value, headers)] = producer.sent
    assert topic == "partner.shelter-a.responses"
    assert key == str(offer.referral_id).encode()
    answer = Envelope.from_kafka(headers, value)
    assert answer.type == "haven.partner.referral.answered.v1"
    assert CATALOGUE.decode(answer.type, answer.data).action == "accept"


def test_a_withdrawal_is_not_answered() -> None:
    from haven_shared.events.referral import PartnerReferralWithdrawn

    envelope = Envelope.wrap(PartnerReferralWithdrawn.example(), "/haven/referral")
    event = ce_kafka.from_binary_event(ce_kafka.KafkaMessage(
        headers=dict(envelope.kafka_headers()), key=None, value=envelope.body()))
    producer = _Producer()
    assert partner.handle(event, SETTINGS, _Credentials(), producer, "accept") is False
    assert producer.sent == []
