"""Broker ACLs for the services and partners, derived from the documented topic topology.

The AsyncAPI document and the broker's ACLs come from the same table (`events.schemas.TOPOLOGY`),
so a topic or consumer group added there is both documented and granted, and nothing else is.
Principals are Keycloak client ids (the broker takes the token's `azp`): `User:intake`,
`User:referral`, `User:registry`, `User:partner-<org>`.

- a producing service may create, describe and write its topics;
- a consuming service may create (to subscribe before the producer ran), describe and read the
  topic, and read its consumer group;
- a partner may read its own `partner.<org>.referrals`, write its own `partner.<org>.responses`
  and use consumer groups named `partner-<org>…` — and nothing else.

    uv run python -m haven_shared.kafka_acls --bootstrap 127.0.0.1:9192 \
        --admin-password "$HAVEN_KAFKA_ADMIN_PASSWORD" --partner shelter-a --partner clinic-b
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourceType,
)

from haven_shared.events.schemas import TOPOLOGY, TopicUse
from haven_shared.kafka import make_admin

SERVICES = ("intake", "referral", "registry")
PARTNER = "partner"
ORG = "{org}"


@dataclass(frozen=True, order=True)
class AclRule:
    """One ALLOW entry: `principal` may do `operation` on the topic or group `name`."""

    principal: str
    resource: str  # "topic" | "group"
    name: str
    prefixed: bool
    operation: str  # "READ" | "WRITE" | "DESCRIBE" | "CREATE"

    def to_kafka(self) -> ACL:
        rtype = ResourceType.TOPIC if self.resource == "topic" else ResourceType.GROUP
        pattern = (ACLResourcePatternType.PREFIXED if self.prefixed
                   else ACLResourcePatternType.LITERAL)
        return ACL(self.principal, "*", ACLOperation[self.operation], ACLPermissionType.ALLOW,
                   ResourcePattern(rtype, self.name, pattern))


def _topic(name: str, org: str | None) -> tuple[str, bool]:
    """The resource a topic name stands for: literal, or (for a service) the prefix before
    `{org}` — services serve every partner; a partner's own topic is always literal."""
    if ORG not in name:
        return name, False
    if org is not None:
        return name.replace(ORG, org), False
    return name.split(ORG, 1)[0], True


def service_acls(topology: Mapping[str, TopicUse] = TOPOLOGY) -> list[AclRule]:
    rules: set[AclRule] = set()
    for topic, use in topology.items():
        name, prefixed = _topic(topic, None)
        if use.producer in SERVICES:
            principal = f"User:{use.producer}"
            for op in ("CREATE", "DESCRIBE", "WRITE"):
                rules.add(AclRule(principal, "topic", name, prefixed, op))
        for service, group in use.consumers:
            if service not in SERVICES:
                continue
            principal = f"User:{service}"
            for op in ("CREATE", "DESCRIBE", "READ"):
                rules.add(AclRule(principal, "topic", name, prefixed, op))
            # Prefixed, so a deployment may suffix its group names (one index per region…).
            rules.add(AclRule(principal, "group", group, True, "READ"))
    return sorted(rules)


def partner_acls(org: str, topology: Mapping[str, TopicUse] = TOPOLOGY) -> list[AclRule]:
    principal = f"User:partner-{org}"
    rules: set[AclRule] = set()
    for topic, use in topology.items():
        if ORG not in topic:
            continue
        name, _ = _topic(topic, org)
        if use.producer == PARTNER:
            ops: tuple[str, ...] = ("DESCRIBE", "WRITE")
        elif any(service == PARTNER for service, _ in use.consumers):
            ops = ("DESCRIBE", "READ")
        else:
            continue
        rules.update(AclRule(principal, "topic", name, False, op) for op in ops)
    rules.add(AclRule(principal, "group", f"partner-{org}", True, "READ"))
    return sorted(rules)


def all_acls(partners: Iterable[str] = (),
             topology: Mapping[str, TopicUse] = TOPOLOGY) -> list[AclRule]:
    rules = service_acls(topology)
    for org in partners:
        rules.extend(partner_acls(org, topology))
    return rules


def apply_acls(admin_options: Mapping[str, Any], rules: Iterable[AclRule]) -> int:
    """Create the ACLs (creating an existing one again is harmless); returns how many were sent."""
    acls = [r.to_kafka() for r in rules]
    admin = make_admin(str(admin_options["bootstrap_servers"]),
                       **{k: v for k, v in admin_options.items() if k != "bootstrap_servers"})
    try:
        result = admin.create_acls(acls)
    finally:
        admin.close()
    if result["failed"]:
        raise RuntimeError(f"{len(result['failed'])} ACLs were refused by the broker")
    return len(acls)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True, help="the broker's internal (PLAIN) listener")
    parser.add_argument("--admin-user", default="admin")
    parser.add_argument("--admin-password", default=os.environ.get("HAVEN_KAFKA_ADMIN_PASSWORD"))
    parser.add_argument("--partner", action="append", default=[], help="partner org code")
    parser.add_argument("--print", action="store_true", help="only print the ACLs")
    args = parser.parse_args(argv)
    rules = all_acls(args.partner)
    if args.print:
        for r in rules:
            print(f"{r.principal} {r.operation} {r.resource} "
                  f"{r.name}{'*' if r.prefixed else ''}")
        return
    if not args.admin_password:
        parser.error("--admin-password (or HAVEN_KAFKA_ADMIN_PASSWORD) is required")
    count = apply_acls({"bootstrap_servers": args.bootstrap, "security_protocol": "SASL_PLAINTEXT",
                        "sasl_mechanism": "PLAIN", "sasl_plain_username": args.admin_user,
                        "sasl_plain_password": args.admin_password}, rules)
    print(f"{count} ACLs applied")


if __name__ == "__main__":
    main()
