"""The broker itself keeps each partner and each service to its own topics: tokens from
Keycloak, ACLs derived from the documented topology, enforced by the broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError
from kafka.net.sasl.oauth import AbstractTokenProvider

from haven_shared.kafka_acls import all_acls, apply_acls
from haven_shared.kafka_auth import KeycloakTokenProvider, oauth_client_options
from haven_shared.testing.secured_kafka import SecuredKafka, secured_kafka
from haven_shared.testing.stack import LocalStack

PARTNERS = {
    "shelter-a": "HAVEN_PARTNER_SHELTER_A_SECRET",
    "clinic-b": "HAVEN_PARTNER_CLINIC_B_SECRET",
}


@pytest.fixture(scope="module")
def secured(stack: LocalStack) -> Iterator[SecuredKafka]:
    """A broker of its own in secured mode, validating tokens of the session's Keycloak."""
    with secured_kafka(stack) as kafka:
        yield kafka


@pytest.fixture(scope="module")
def partner_topics(secured: SecuredKafka) -> dict[str, str]:
    """One referrals topic per partner, each holding one offer, and each partner's ACLs."""
    topics = {org: f"partner.{org}.referrals" for org in PARTNERS}
    admin = KafkaAdminClient(**secured.admin_options())
    try:
        admin.create_topics([NewTopic(t, 1, 1) for t in topics.values()])
    finally:
        admin.close()
    # The ACLs production gets: derived from the documented topology (haven_shared.kafka_acls).
    apply_acls(secured.admin_options(), all_acls(PARTNERS))
    producer = KafkaProducer(**secured.admin_options())
    for org, topic in topics.items():
        producer.send(topic, f"offer for {org}".encode()).get(timeout=30)
    producer.close()
    return topics


def partner_provider(stack: LocalStack, org: str) -> KeycloakTokenProvider:
    return KeycloakTokenProvider(stack.token_url, f"partner-{org}", stack.secrets[PARTNERS[org]])


def read_all(bootstrap: str, provider: AbstractTokenProvider, topic: str) -> list[bytes]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **oauth_client_options(provider),
    )
    try:
        consumer.assign([TopicPartition(topic, 0)])
        out: list[bytes] = []
        for _ in range(6):
            for records in consumer.poll(timeout_ms=1000).values():
                out.extend(r.value for r in records)
        return out
    finally:
        consumer.close()


def test_a_partner_reads_its_own_topic_with_a_keycloak_token(
    stack: LocalStack, secured: SecuredKafka, partner_topics: dict[str, str]
) -> None:
    got = read_all(
        secured.client_bootstrap, partner_provider(stack, "shelter-a"), partner_topics["shelter-a"]
    )
    assert got == [b"offer for shelter-a"]


def test_the_broker_denies_a_partner_another_partners_topic(
    stack: LocalStack, secured: SecuredKafka, partner_topics: dict[str, str]
) -> None:
    got = read_all(
        secured.client_bootstrap, partner_provider(stack, "shelter-a"), partner_topics["clinic-b"]
    )
    assert got == []
    denials = [
        line
        for line in secured.log.read_text().splitlines()
        if "User:partner-shelter-a is Denied" in line and "partner.clinic-b." in line
    ]
    assert denials, "the broker's authorizer logged no denial"


def test_a_token_without_the_broker_audience_cannot_connect(
    stack: LocalStack, secured: SecuredKafka
) -> None:
    class UserToken(AbstractTokenProvider):
        def token(self) -> str:
            return stack.password_token("ana")  # audiences intake/referral/registry only

    with pytest.raises(KafkaError):
        KafkaConsumer(
            bootstrap_servers=secured.client_bootstrap,
            request_timeout_ms=8000,
            api_version_auto_timeout_ms=8000,
            **oauth_client_options(UserToken()),
        )


def service_provider(stack: LocalStack, service: str) -> KeycloakTokenProvider:
    return KeycloakTokenProvider(stack.token_url, service, stack.secrets["HAVEN_SERVICE_SECRET"])


@pytest.mark.parametrize(("service", "topic"), [
    ("registry", "referral.referral"),   # another service's topic
    ("intake", "partner.shelter-a.referrals"),  # only referral talks to partners
])
def test_the_broker_denies_a_service_a_topic_it_does_not_produce(
    stack: LocalStack, secured: SecuredKafka, partner_topics: dict[str, str],
    service: str, topic: str
) -> None:
    producer = KafkaProducer(bootstrap_servers=secured.client_bootstrap, max_block_ms=8000,
                             **oauth_client_options(service_provider(stack, service)))
    try:
        with pytest.raises(KafkaError):
            producer.send(topic, b"forged").get(timeout=15)
    finally:
        producer.close(timeout=5)
    assert secured.denials(f"User:{service}", topic)
