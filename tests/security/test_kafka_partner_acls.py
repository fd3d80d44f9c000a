"""The broker itself keeps each partner to its own topics: tokens from Keycloak, ACLs enforced."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    NewTopic,
    ResourcePattern,
    ResourceType,
)
from kafka.errors import KafkaError
from kafka.net.sasl.oauth import AbstractTokenProvider

from haven_shared.kafka_auth import KeycloakTokenProvider, oauth_client_options
from haven_shared.testing.stack import DEPLOY, REPO_ROOT, LocalStack, free_port, free_port_block

PARTNERS = {"shelter-a": "HAVEN_PARTNER_SHELTER_A_SECRET", "clinic-b": "HAVEN_PARTNER_CLINIC_B_SECRET"}


@dataclass
class SecuredKafka:
    client_bootstrap: str
    internal_bootstrap: str
    env: dict[str, str]
    log: Path

    def admin_options(self) -> dict[str, object]:
        return {
            "bootstrap_servers": self.internal_bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "PLAIN",
            "sasl_plain_username": "admin",
            "sasl_plain_password": self.env["HAVEN_KAFKA_ADMIN_PASSWORD"],
        }


@pytest.fixture(scope="module")
def secured_kafka(stack: LocalStack) -> Iterator[SecuredKafka]:
    """A broker of its own in secured mode, validating tokens of the session's Keycloak."""
    run_dir = Path(tempfile.mkdtemp(prefix="kafka-sasl-", dir=REPO_ROOT / ".run"))
    shutil.copy(stack.run_dir / "secrets.env", run_dir / "secrets.env")  # the realm's secrets
    port, internal = free_port_block(1), free_port_block(1)
    env = {
        **os.environ,
        "HAVEN_RUN_DIR": str(run_dir),
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_INTERNAL_PORT": str(internal),
        "KAFKA_OAUTH_ISSUER": stack.issuer,
    }
    script = str(DEPLOY / "kafka" / "kafka.sh")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True,
                             timeout=300, check=False)
    try:
        assert started.returncode == 0, started.stderr
        secrets = dict(line.split("=", 1) for line in
                       (run_dir / "secrets.env").read_text().split())
        yield SecuredKafka(f"127.0.0.1:{port}", f"127.0.0.1:{internal}", {**env, **secrets},
                           run_dir / "kafka" / "node1" / "kafka.log")
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def partner_topics(secured_kafka: SecuredKafka) -> dict[str, str]:
    """One referrals topic per partner, each holding one offer, and each partner's ACLs."""
    topics = {org: f"partner.{org}.referrals" for org in PARTNERS}
    admin = KafkaAdminClient(**secured_kafka.admin_options())
    try:
        admin.create_topics([NewTopic(t, 1, 1) for t in topics.values()])
        acls = []
        for org in PARTNERS:
            principal = f"User:partner-{org}"
            for rtype, name, op in ((ResourceType.TOPIC, f"partner.{org}.", ACLOperation.READ),
                                    (ResourceType.GROUP, f"partner-{org}", ACLOperation.READ)):
                acls.append(ACL(principal, "*", op, ACLPermissionType.ALLOW,
                                ResourcePattern(rtype, name, ACLResourcePatternType.PREFIXED)))
        result = admin.create_acls(acls)
        assert not result["failed"]
    finally:
        admin.close()
    producer = KafkaProducer(**secured_kafka.admin_options())
    for org, topic in topics.items():
        producer.send(topic, f"offer for {org}".encode()).get(timeout=30)
    producer.close()
    return topics


def partner_provider(stack: LocalStack, org: str) -> KeycloakTokenProvider:
    return KeycloakTokenProvider(stack.token_url, f"partner-{org}", stack.secrets[PARTNERS[org]])


def read_all(bootstrap: str, provider: AbstractTokenProvider, topic: str) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", **oauth_client_options(provider))
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
    stack: LocalStack, secured_kafka: SecuredKafka, partner_topics: dict[str, str]
) -> None:
    got = read_all(secured_kafka.client_bootstrap, partner_provider(stack, "shelter-a"),
                   partner_topics["shelter-a"])
    assert got == [b"offer for shelter-a"]


def test_the_broker_denies_a_partner_another_partners_topic(
    stack: LocalStack, secured_kafka: SecuredKafka, partner_topics: dict[str, str]
) -> None:
    got = read_all(secured_kafka.client_bootstrap, partner_provider(stack, "shelter-a"),
                   partner_topics["clinic-b"])
    assert got == []
    denials = [line for line in secured_kafka.log.read_text().splitlines()
               if "User:partner-shelter-a is Denied" in line and "partner.clinic-b." in line]
    assert denials, "the broker's authorizer logged no denial"


def test_a_token_without_the_broker_audience_cannot_connect(
    stack: LocalStack, secured_kafka: SecuredKafka
) -> None:
    class UserToken(AbstractTokenProvider):
        def token(self) -> str:
            return stack.password_token("ana")  # audiences intake/referral/registry only

    with pytest.raises(KafkaError):
        KafkaConsumer(bootstrap_servers=secured_kafka.client_bootstrap,
                      request_timeout_ms=8000, api_version_auto_timeout_ms=8000,
                      **oauth_client_options(UserToken()))
