"""The broker ACLs follow the documented topology: each principal gets what it needs, no more."""

from __future__ import annotations

from haven_shared.events.schemas import TOPOLOGY, TopicUse
from haven_shared.kafka_acls import AclRule, all_acls, main, partner_acls, service_acls


def grants(rules: list[AclRule], principal: str) -> set[tuple[str, str, bool, str]]:
    return {(r.resource, r.name, r.prefixed, r.operation) for r in rules
            if r.principal == principal}


def test_a_producing_service_writes_its_topic_and_consumers_read_it_in_their_groups() -> None:
    rules = service_acls()
    assert ("topic", "intake.case", False, "WRITE") in grants(rules, "User:intake")
    registry = grants(rules, "User:registry")
    assert ("topic", "intake.case", False, "READ") in registry
    assert ("group", "registry-person-index", True, "READ") in registry
    assert ("topic", "intake.case", False, "WRITE") not in registry


def test_only_referral_may_touch_partner_topics_among_the_services() -> None:
    rules = service_acls()
    for service in ("intake", "registry"):
        assert not {g for g in grants(rules, f"User:{service}") if g[1].startswith("partner.")}
    referral = grants(rules, "User:referral")
    assert ("topic", "partner.", True, "WRITE") in referral
    assert ("topic", "partner.", True, "READ") in referral


def test_a_partner_gets_its_own_two_topics_and_nothing_else() -> None:
    rules = partner_acls("shelter-a")
    topics = {(name, op) for kind, name, prefixed, op in grants(rules, "User:partner-shelter-a")
              if kind == "topic"}
    assert topics == {("partner.shelter-a.referrals", "READ"),
                      ("partner.shelter-a.referrals", "DESCRIBE"),
                      ("partner.shelter-a.responses", "WRITE"),
                      ("partner.shelter-a.responses", "DESCRIBE")}
    assert all(not r.prefixed for r in rules if r.resource == "topic")
    assert {r.principal for r in rules} == {"User:partner-shelter-a"}


def test_a_topic_added_to_the_topology_is_granted_and_one_removed_is_not() -> None:
    topology = {**TOPOLOGY, "registry.notice": TopicUse("registry", (("intake", "intake-n"),))}
    assert ("topic", "registry.notice", False, "READ") in grants(service_acls(topology),
                                                                 "User:intake")
    trimmed = {k: v for k, v in TOPOLOGY.items() if k != "registry.match"}
    assert not {g for g in grants(service_acls(trimmed), "User:intake")
                if g[1] == "registry.match"}


def test_test_only_topics_get_no_acl() -> None:
    assert not [r for r in all_acls(["shelter-a"]) if r.name.startswith("haven.test")]


def test_print_lists_the_acls(capsys) -> None:  # type: ignore[no-untyped-def]
    main(["--bootstrap", "127.0.0.1:1", "--partner", "clinic-b", "--print"])
    out = capsys.readouterr().out
    assert "User:partner-clinic-b READ topic partner.clinic-b.referrals" in out
    assert "User:referral WRITE topic partner.*" in out
