"""Kafka stops in the middle of the flow and comes back: requests are still acknowledged during
the outage (the outbox holds their events), `/readyz` reports the broker missing, and after the
restart every acknowledged request's effects exist exactly once, with no manual action.

The broker is one of this module's own (the session's is shared with other suites); PostgreSQL
and Keycloak are the session's.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator

import httpx
import pytest
from harness import Scenario, to_json, until

from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra

BEFORE, DURING = 2, 2


@pytest.fixture(scope="module")
def own_kafka(stack: LocalStack) -> Iterator[LocalStack]:
    """The session's stack, but with a Kafka broker of this module's own."""
    own = LocalStack.create()
    hybrid = dataclasses.replace(
        stack,
        run_dir=own.run_dir,
        kafka_port=own.kafka_port,
        kafka_brokers=1,
        _controller_port=own._controller_port,
        _ephemeral=False,
    )
    try:
        hybrid.start_kafka()
        yield hybrid
    finally:
        try:
            hybrid.stop_kafka()
        finally:
            shutil.rmtree(own.run_dir, ignore_errors=True)


def _readyz(url: str) -> tuple[int, str]:
    try:
        r = httpx.get(f"{url}/readyz", timeout=10)
    except httpx.HTTPError as exc:
        return 0, type(exc).__name__
    return r.status_code, r.text


def _kafka_down(answer: tuple[int, str]) -> bool:
    """A 503 naming Kafka unavailable (the process itself still answers)."""
    status, text = answer
    return status == 503 and '"kafka":"unavailable' in text.replace(" ", "")


def test_a_kafka_restart_mid_flow_loses_and_doubles_nothing(own_kafka: LocalStack) -> None:
    with Scenario(own_kafka, cases=BEFORE) as scenario:
        scenario.seed_provider()
        scenario.file_cases()
        own_kafka.stop_kafka()
        try:
            # Every service says it is not ready while the broker is gone...
            for proc in scenario.procs.values():
                until(
                    f"{proc.name} to report Kafka down",
                    lambda p=proc: _kafka_down(_readyz(p.url)),
                    timeout=60,
                )
            # ...and intake still takes requests: their events wait in its outbox.
            scenario.cases = BEFORE + DURING
            scenario.file_cases(start=BEFORE)
            assert scenario.pending()["intake"] > 0
        finally:
            own_kafka.start_kafka()
        for proc in scenario.procs.values():
            until(f"{proc.name} to be ready again", proc.ready, timeout=120)
        scenario.wait_converged(timeout=180)
        o = scenario.check()
        print(to_json([o]))  # noqa: T201 - the figures, in the CI log
    total = BEFORE + DURING
    assert o.acknowledged == 3 * total
    assert (o.lost, o.duplicated, o.problems) == (0, 0, [])
    assert (o.assessments, o.referrals, o.offers) == (total, total, total)
    assert o.outbox_pending == {"registry": 0, "referral": 0, "intake": 0}
