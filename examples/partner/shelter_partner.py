"""A partner shelter's consumer of Haven referral offers (example; stands alone from Haven's code).

It identifies itself with its own Keycloak client (`partner-shelter-a`, client-credentials
grant), reads offers from `partner.<org>.referrals` as CloudEvents (binary mode, the CloudEvents
SDK's Kafka binding), looks each offer up in the referral service's partner API with its token,
decides, and answers on `partner.<org>.responses` with `haven.partner.referral.answered.v1`.

    uv run python examples/partner/shelter_partner.py --decide accept --once

Settings (environment, then `.run/dev/secrets.env`): PARTNER_ORG (shelter-a), PARTNER_CLIENT_ID
(partner-<org>), PARTNER_CLIENT_SECRET (default HAVEN_PARTNER_SHELTER_A_SECRET),
KAFKA_BOOTSTRAP (127.0.0.1:9092), KEYCLOAK_ISSUER (http://127.0.0.1:8080/realms/haven),
REFERRAL_URL (http://127.0.0.1:8002). `--sasl` authenticates to a secured broker with the
same client's token (SASL/OAUTHBEARER); `make up`'s broker is plaintext.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.net.sasl.oauth import AbstractTokenProvider

OFFERED = "haven.partner.referral.offered.v1"
WITHDRAWN = "haven.partner.referral.withdrawn.v1"
ERASED = "haven.partner.subject.erased.v1"
ANSWERED = "haven.partner.referral.answered.v1"


@dataclass(frozen=True)
class PartnerSettings:
    """Who this partner is and where Haven runs."""

    org: str
    client_id: str
    client_secret: str
    kafka_bootstrap: str
    issuer: str
    referral_url: str

    @classmethod
    def load(cls) -> PartnerSettings:
        """From the environment over `.run/dev/secrets.env` (written by `make up`)."""
        env = _secrets_env(Path(os.environ.get("HAVEN_RUN_DIR", ".run/dev")) / "secrets.env")
        env.update(os.environ)
        org = env.get("PARTNER_ORG", "shelter-a")
        secret_var = f"HAVEN_PARTNER_{org.upper().replace('-', '_')}_SECRET"
        return cls(org=org, client_id=env.get("PARTNER_CLIENT_ID", f"partner-{org}"),
                   client_secret=env.get("PARTNER_CLIENT_SECRET", env.get(secret_var, "")),
                   kafka_bootstrap=env.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
                   issuer=env.get("KEYCLOAK_ISSUER", "http://127.0.0.1:8080/realms/haven"),
                   referral_url=env.get("REFERRAL_URL", "http://127.0.0.1:8002"))


def _secrets_env(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip().strip("'\"") for k, v in pairs}


class ClientCredentials(AbstractTokenProvider):
    """The partner's own Keycloak token (client-credentials grant), renewed before it expires."""

    def __init__(self, settings: PartnerSettings) -> None:
        self._settings = settings
        self._token, self._expires = "", 0.0

    def token(self) -> str:
        if time.monotonic() > self._expires - 30:
            s = self._settings
            response = httpx.post(f"{s.issuer}/protocol/openid-connect/token",
                                  data={"grant_type": "client_credentials"},
                                  auth=(s.client_id, s.client_secret), timeout=10)
            response.raise_for_status()
            body = response.json()
            self._token = body["access_token"]
            self._expires = time.monotonic() + float(body.get("expires_in", 60))
        return self._token


def kafka_options(credentials: ClientCredentials, sasl: bool) -> dict[str, Any]:
    """kafka-python connection options: SASL/OAUTHBEARER with our token on a secured broker."""
    if not sasl:
        return {}
    return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "OAUTHBEARER",
            "sasl_oauth_token_provider": credentials}


def ensure_responses_topic(settings: PartnerSettings, options: dict[str, Any]) -> None:
    """Create our responses topic when missing (brokers do not auto-create topics).

    Referral finds `partner.<org>.responses` topics by pattern within its discovery interval
    (`REFERRAL_TOPIC_DISCOVERY_MS`, 30 s). Where the operator creates partner topics and the
    ACLs forbid us to, this only says so.
    """
    topic = f"partner.{settings.org}.responses"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **options)
    try:
        if topic not in admin.list_topics():
            admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1}})
            print(f"created {topic}")
    except TopicAlreadyExistsError:
        pass
    except KafkaError as exc:
        print(f"cannot create {topic} ({type(exc).__name__}); the operator must create it")
    finally:
        admin.close()


def answer_event(settings: PartnerSettings, referral_id: str, action: str,
                 reason: str | None = None, traceparent: str | None = None) -> CloudEvent:
    """Our answer as a CloudEvent; referral takes who answered from the topic, not the body.
    The offer's `traceparent` (CloudEvents distributed-tracing extension) goes back with it, so
    Haven's auditors see the answer in the offer's trace."""
    data: dict[str, Any] = {"referral_id": referral_id, "action": action}
    if reason:
        data["reason"] = reason
    attributes = {"type": ANSWERED, "source": f"/partners/{settings.org}",
                  "subject": referral_id, "datacontenttype": "application/json"}
    if traceparent:
        attributes["traceparent"] = traceparent
    return CloudEvent(attributes, data)


def handle(event: Any, settings: PartnerSettings, credentials: ClientCredentials,
           producer: KafkaProducer, decision: str) -> bool:
    """Act on one event from our referrals topic; True when we answered an offer."""
    data = event.get_data()
    if isinstance(data, bytes | str):
        data = json.loads(data)
    if event.get_type() == WITHDRAWN:
        print(f"withdrawn: referral {data['referral_id']} ({data['outcome']}); forgetting it")
        return False
    if event.get_type() == ERASED:
        # The person was erased at Haven: delete everything held under this pseudonym.
        print(f"erased: deleting all we hold for {data['subject']} "
              f"(referral {data['referral_id']})")
        return False
    if event.get_type() != OFFERED:
        return False
    referral_id = data["referral_id"]
    print(f"offer: referral {referral_id} need={data['need']} urgency={data['urgency']} "
          f"respond_by={data['respond_by']} shared={json.dumps(data['shared'])}")
    # The referral service's partner API, with our own token: the offer as it stands now.
    current = httpx.get(f"{settings.referral_url}/partner/referrals/{referral_id}", timeout=10,
                        headers={"Authorization": f"Bearer {credentials.token()}",
                                 # Reads of a referral say why (referral audits each read).
                                 "X-Purpose-Of-Use": "service-provision"})
    print(f"  GET /partner/referrals/{referral_id} -> {current.status_code}")
    reason = "no-capacity" if decision == "reject" else None
    answer = answer_event(settings, referral_id, decision, reason,
                          event.get_attributes().get("traceparent"))
    message = ce_kafka.to_binary_event(answer,
                                       key_mapper=lambda e: str(e.get_subject()))
    topic = f"partner.{settings.org}.responses"
    producer.send(topic, key=_bytes(message.key), value=message.value,
                  headers=list(message.headers.items())).get(timeout=30)
    print(f"  answered {decision} on {topic}")
    return True


def _bytes(value: str | bytes | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def main() -> None:
    """Consume offers until interrupted (or until the first answer with --once)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decide", choices=["accept", "reject"], default="accept")
    parser.add_argument("--once", action="store_true", help="stop after the first answer")
    parser.add_argument("--sasl", action="store_true", help="secured broker (OAUTHBEARER)")
    parser.add_argument("--group", help="consumer group (default partner-<org>)")
    args = parser.parse_args()
    settings = PartnerSettings.load()
    credentials = ClientCredentials(settings)
    credentials.token()  # fail early when the client or its secret is wrong
    print(f"{settings.client_id}: token from {settings.issuer}")
    options = kafka_options(credentials, args.sasl)
    ensure_responses_topic(settings, options)
    consumer = KafkaConsumer(f"partner.{settings.org}.referrals",
                             bootstrap_servers=settings.kafka_bootstrap,
                             group_id=args.group or f"partner-{settings.org}",
                             auto_offset_reset="earliest", enable_auto_commit=False, **options)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", **options)
    print(f"waiting for offers on partner.{settings.org}.referrals")
    try:
        while True:
            answered = False
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    message = ce_kafka.KafkaMessage(
                        headers={k: v for k, v in record.headers}, key=record.key,
                        value=record.value)
                    answered |= handle(ce_kafka.from_binary_event(message), settings,
                                       credentials, producer, args.decide)
            # Commit after acting on the batch: after a crash before it, the offers come again.
            consumer.commit()
            if answered and args.once:
                return
    except KeyboardInterrupt:
        pass
    finally:
        producer.close(timeout=5)
        consumer.close()


if __name__ == "__main__":
    main()
