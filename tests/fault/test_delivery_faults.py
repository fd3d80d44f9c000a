"""Events out of order and twice within a partition; a handler that fails on every attempt;
the dead-letter CLI replaying its records once the cause is fixed.

One scenario (intake, registry and referral as processes, no crash point):

- a case's consent and needs events are put on `intake.case` in the wrong order (needs first)
  and each more than once: referral holds the need until the consent arrives, then refers it
  once and offers it once; the referral's state is legal;
- registry starts with a matching secret intake does not accept, so intake refuses its person
  index's matching-key requests: each missing-person report fails every attempt and is
  dead-lettered with the reason after the bounded retries, while the consumer goes on with the
  records behind them;
- registry is restarted with the right secret (the fix) and `haven dead-letters replay --all`
  puts the parked records back: each report is indexed exactly once; replaying again, or the
  same records delivered once more, changes nothing;
- intake becomes unreachable for registry (an outage, not a bad record): a report filed then is
  neither parked nor skipped; the person index waits, and indexes it once intake is back.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from harness import Scenario, produce_raw, until
from kafka import KafkaConsumer, TopicPartition
from typer.testing import CliRunner

from haven_shared.cli import app
from haven_shared.events.envelope import Envelope
from haven_shared.events.intake import TOPIC as INTAKE_TOPIC
from haven_shared.testing.stack import LocalStack
from registry.config import DEV_MATCHING_KEY

pytestmark = pytest.mark.infra

NEEDS = "haven.intake.needs.assessed.v1"
CONSENT = "haven.intake.consent.given.v1"
REPORTS = 2


@pytest.fixture(scope="module")
def scenario(stack: LocalStack) -> Iterator[Scenario]:
    with Scenario(
        stack,
        target="referral",
        cases=1,
        tracing=REPORTS,
        settings={"registry": {"MATCHING_KEY": "a-secret-intake-does-not-share"}},
    ) as s:
        s.seed_provider()
        s.file_cases()
        yield s


def _outbox_events(s: Scenario, case_ids: list[str]) -> list[Envelope]:
    """The events intake staged for `case_ids`, oldest first (read from its outbox: the shared
    topic is too long to scan under other suites' traffic)."""
    with s._engine("intake").connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT payload, headers FROM outbox WHERE aggregateid = ANY(:ids) ORDER BY seq"
            ),
            {"ids": case_ids},
        ).all()
    return [Envelope.from_headers(headers, payload) for payload, headers in rows]


def _record(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    return envelope.subject.encode(), envelope.body(), envelope.kafka_headers()


def _as_new_case(envelope: Envelope, case_id: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The event for another case: new case, record and event ids."""
    data = dict(envelope.data, case_id=case_id)
    for key in ("assessment_id", "consent_id"):
        if key in data:
            data[key] = str(uuid.uuid4())
    return _record(dataclasses.replace(envelope, id=str(uuid.uuid4()), subject=case_id, data=data))


def test_a_need_delivered_before_its_consent_and_everything_twice_is_referred_once(
    scenario: Scenario,
) -> None:
    events = {e.type: e for e in _outbox_events(scenario, scenario.case_ids[:1])}
    case_id = str(uuid.uuid4())
    needs = _as_new_case(events[NEEDS], case_id)
    consent = _as_new_case(events[CONSENT], case_id)
    # One key, so one partition, in this order: the need (twice) before its consent (twice).
    sent = produce_raw(
        scenario.stack.kafka_bootstrap, INTAKE_TOPIC, [needs, needs, consent, needs, consent]
    )

    def referrals() -> list[Any]:
        with scenario._engine("referral").connect() as conn:
            return list(
                conn.execute(
                    sa.text("SELECT id, status FROM referral WHERE case_id = :c"),
                    {"c": uuid.UUID(case_id)},
                )
            )

    until("the held need to be referred", referrals, timeout=60)
    until(
        "referral to consume the records",
        lambda: consumed_past(scenario, f"fault-{scenario.run}-intake", sent),
        timeout=60,
    )
    [(referral_id, status)] = referrals()
    assert status == "requested"
    until("the offer", lambda: str(referral_id) in scenario.offers(), timeout=120)
    assert len(scenario.offers()[str(referral_id)]) == 1

    # What stays held (a minor's guardian need outside the consent's partner kinds) is what
    # stays held for the same events delivered in order, once.
    def held(case: str) -> list[str]:
        with scenario._engine("referral").connect() as conn:
            return sorted(
                json.dumps(n, sort_keys=True)
                for n in conn.execute(
                    sa.text("SELECT need FROM referral_pending_need WHERE case_id = :c"),
                    {"c": uuid.UUID(case)},
                ).scalars()
            )

    assert held(case_id) == held(scenario.case_ids[0])


# ---- a handler failing every attempt, and the CLI ---------------------------------------


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, ["dead-letters", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def parked(scenario: Scenario) -> list[dict[str, Any]]:
    """File the reports while intake refuses registry's key requests; what the CLI lists."""
    scenario.file_tracing()
    url = scenario.db["registry"]

    def letters() -> list[dict[str, Any]]:
        out = json.loads(_cli("list", "--service", "registry", "--database-url", url, "--json"))
        mine = [x for x in out if x["key"] in scenario.tracing_refs]
        return mine if len(mine) >= REPORTS else []

    try:
        # Other suites' reports on the shared topic fail here too, each after its retries.
        return until("registry to park the reports", letters, timeout=240, interval=1)
    except AssertionError:
        print(scenario.indexed(), scenario.procs["registry"].log_tail())  # noqa: T201
        raise


def test_a_report_whose_handler_fails_every_attempt_is_parked_with_the_reason(
    scenario: Scenario, parked: list[dict[str, Any]]
) -> None:
    assert len(parked) == REPORTS
    for letter in parked:
        assert letter["event_type"] == "haven.intake.missing-person.recorded.v1"
        assert letter["reason"].startswith("IntakeRefused")
        assert letter["attempts"] == 5  # the inbox's bounded retries
    assert scenario.indexed() == {}


def test_the_consumer_goes_on_past_the_parked_records(
    scenario: Scenario, parked: list[dict[str, Any]]
) -> None:
    # Each report's case consent came before it; a later tracing consent is applied too.
    later = scenario.request(
        "intake", "POST", "/cases", "ana", {"kind": "missing-person"}, purpose="tracing"
    ).json()["id"]
    r = scenario.request(
        "intake",
        "POST",
        f"/cases/{later}/consents",
        "ana",
        {"purpose": "tracing"},
        purpose="tracing",
    )
    assert r.status_code == 201, r.text

    def consented() -> int:
        with scenario._engine("registry").connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM tracing_consent WHERE case_id = :c"),
                    {"c": uuid.UUID(later)},
                ).scalar_one()
            )

    until("registry to apply the consent behind the parked reports", consented, timeout=60)


def test_after_the_fix_a_replay_indexes_each_report_once_and_replaying_again_changes_nothing(
    scenario: Scenario, parked: list[dict[str, Any]]
) -> None:
    scenario.restart("registry", MATCHING_KEY=DEV_MATCHING_KEY)
    url, bootstrap = scenario.db["registry"], scenario.stack.kafka_bootstrap
    replay = (
        "replay",
        "--service",
        "registry",
        "--database-url",
        url,
        "--kafka-bootstrap",
        bootstrap,
    )
    ids = [str(letter["id"]) for letter in parked]
    assert f"{REPORTS} replayed" in _cli(*replay, *ids)
    until(
        "the replayed reports to be indexed",
        lambda: set(scenario.indexed()) == set(scenario.tracing_refs),
        timeout=90,
    )
    left = json.loads(_cli("list", "--service", "registry", "--database-url", url, "--json"))
    assert [x for x in left if x["key"] in scenario.tracing_refs] == []
    again = _cli(*replay, *ids)
    assert "0 replayed" in again and again.count("not found") == REPORTS
    # The replayed records once more on the topic: duplicates, skipped.
    records = [_record(e) for e in _outbox_events(scenario, list(scenario.tracing_refs))]
    assert records
    sent = produce_raw(bootstrap, INTAKE_TOPIC, records)
    until(
        "registry to consume the duplicates",
        lambda: consumed_past(scenario, f"fault-registry-{scenario.run}", sent),
        timeout=60,
    )
    assert scenario.indexed() == dict.fromkeys(scenario.tracing_refs, 1)


def test_an_intake_outage_is_waited_out_and_the_report_is_indexed_once_it_is_back(
    scenario: Scenario, parked: list[dict[str, Any]]
) -> None:
    # An intake that does not answer: a port held (bound, never listening) for the outage.
    with socket.socket() as hold:
        hold.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{hold.getsockname()[1]}"
        scenario.restart("registry", INTAKE_URL=nowhere, MATCHING_KEY=DEV_MATCHING_KEY)
        known = set(scenario.tracing_refs)
        scenario.tracing += 1
        scenario.file_tracing()
        (case_id,) = set(scenario.tracing_refs) - known
        waits = "waiting for a dependency (IntakeUnavailable"
        until(
            "registry's person index to wait for intake",
            lambda: scenario.procs["registry"].log_tail(20_000).count(waits) >= 3,
            timeout=120,
        )
        assert not scenario.indexed().get(case_id)
        url = scenario.db["registry"]
        letters = json.loads(_cli("list", "--service", "registry", "--database-url", url, "--json"))
        assert [x for x in letters if x["key"] == case_id] == []
    scenario.restart("registry", INTAKE_URL=scenario.procs["intake"].url)
    until(
        "the report to be indexed once intake is back",
        lambda: scenario.indexed().get(case_id) == 1,
        timeout=120,
    )
    letters = json.loads(_cli("list", "--service", "registry", "--database-url", url, "--json"))
    assert [x for x in letters if x["key"] == case_id] == []


def consumed_past(s: Scenario, group: str, sent: list[tuple[int, int]]) -> bool:
    """True when `group` has committed offsets past every (partition, offset) in `sent`."""
    consumer = KafkaConsumer(
        bootstrap_servers=s.stack.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        last: dict[int, int] = {}
        for partition, offset in sent:
            last[partition] = max(offset, last.get(partition, -1))
        return all(
            (consumer.committed(TopicPartition(INTAKE_TOPIC, p)) or 0) > offset
            for p, offset in last.items()
        )
    finally:
        consumer.close(autocommit=False)
