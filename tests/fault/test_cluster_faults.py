"""Broker and database faults in the middle of the flow, on servers of this module's own (the
session's are shared with other suites): a three-broker Kafka cluster (replication factor 3,
two in sync to write) and a PostgreSQL that can be stopped. Keycloak is the session's.

- one broker is killed (SIGKILL) while cases are filed and started again: requests keep being
  acknowledged, the services stay ready (the other two brokers serve), and afterwards every
  acknowledged request's effects exist exactly once, outboxes drained;
- PostgreSQL stops: every service's `/readyz` says the database is unavailable; it starts
  again: the services are ready again without any action, and cases filed before and after
  the outage take effect exactly once.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator

import httpx
import pytest
from harness import Outcome, Scenario, to_json, until

from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra

BEFORE, DURING = 2, 2
KILLED_NODE = 2


@pytest.fixture(scope="module")
def own_servers(stack: LocalStack) -> Iterator[LocalStack]:
    """The session's Keycloak, with a three-broker Kafka and a PostgreSQL of this module's."""
    # A restarted broker recovers its logs and catches up before it reports started.
    os.environ.setdefault("KAFKA_START_TIMEOUT", "300")
    own = LocalStack.create(kafka_brokers=3)
    hybrid = dataclasses.replace(
        stack,
        run_dir=own.run_dir,
        kafka_port=own.kafka_port,
        kafka_brokers=3,
        _controller_port=own._controller_port,
        postgres_port=own.postgres_port,
        _ephemeral=False,
    )
    try:
        hybrid.start_postgres()
        hybrid.start_kafka()
        yield hybrid
    finally:
        for stop in (hybrid.stop_kafka, hybrid.stop_postgres):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - clean up as much as possible
                print(f"cleanup: {type(exc).__name__}")  # noqa: T201
        shutil.rmtree(own.run_dir, ignore_errors=True)


def _readyz(url: str) -> tuple[int, str]:
    try:
        r = httpx.get(f"{url}/readyz", timeout=10)
    except httpx.HTTPError as exc:
        return 0, type(exc).__name__
    return r.status_code, r.text.replace(" ", "")


def _invariant(o: Outcome, total: int) -> None:
    print(to_json([o]))  # noqa: T201 - the figures, in the CI log
    assert o.acknowledged == 3 * total
    assert (o.lost, o.duplicated, o.problems) == (0, 0, [])
    assert (o.assessments, o.referrals, o.offers) == (total, total, total)
    assert o.outbox_pending == {"registry": 0, "referral": 0, "intake": 0}


def test_a_broker_killed_and_restarted_mid_flow_loses_and_doubles_nothing(
    own_servers: LocalStack,
) -> None:
    with Scenario(own_servers, cases=BEFORE) as scenario:
        scenario.seed_provider()
        scenario.file_cases()
        own_servers.kill_kafka_node(KILLED_NODE)
        try:
            scenario.cases = BEFORE + DURING
            scenario.file_cases(start=BEFORE)
            # Two brokers of three still take writes (min.insync.replicas=2): no outage.
            for proc in scenario.procs.values():
                assert _readyz(proc.url)[0] == 200, proc.name
        finally:
            own_servers.start_kafka_node(KILLED_NODE)
        scenario.wait_converged(timeout=240)
        o = scenario.check()
    _invariant(o, BEFORE + DURING)


def test_a_postgresql_restart_mid_flow_is_reported_and_recovered_from_without_action(
    own_servers: LocalStack,
) -> None:
    with Scenario(own_servers, cases=BEFORE) as scenario:
        scenario.seed_provider()
        scenario.file_cases()
        own_servers.stop_postgres()
        try:
            for proc in scenario.procs.values():
                until(
                    f"{proc.name} to report the database down",
                    lambda p=proc: (
                        _readyz(p.url)[0] == 503 and '"database":"unavailable' in _readyz(p.url)[1]
                    ),
                    timeout=60,
                )
        finally:
            own_servers.start_postgres()
        for proc in scenario.procs.values():
            until(f"{proc.name} to be ready again", proc.ready, timeout=120)
        scenario.cases = BEFORE + DURING
        scenario.file_cases(start=BEFORE)
        scenario.wait_converged(timeout=240)
        o = scenario.check()
    _invariant(o, BEFORE + DURING)
