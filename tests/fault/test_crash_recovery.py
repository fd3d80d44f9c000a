"""Kill a service (like kill -9) at named points of the backbone, restart it, and check that every
acknowledged request's effects exist exactly once downstream.

One scenario per service: the service is started with a chain of crash points and dies at each
in turn (restarted by the harness armed with the next point, then with none). Intake's
chain covers its unit of work and relay; referral's its inbox (with poison on intake's topic, to
reach the dead-letter path) and relay; registry's its commit, relay and inbox. After intake's
chain every case event is delivered a second time. `HAVEN_FAULT_SEED` chooses which hit of each
point is fatal (default 0); `bench/faults/run.py` runs the full matrix, one point per run.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field

import pytest
from chains import CI_CHAINS, MOST_HITS, TRACING, crash_setting, needs_poison
from harness import Outcome, Scenario, to_json, until

from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra

CASES = 5
SEED = int(os.environ.get("HAVEN_FAULT_SEED", "0"))


@dataclass
class Ran:
    """What a finished scenario found (its processes and databases are gone)."""

    outcome: Outcome
    case_ids: list[str]
    poison_offsets: dict[str, tuple[int, int]] = field(default_factory=dict)
    first_case_referrals: int = 0
    after_replay: Outcome | None = None


def _run(stack: LocalStack, service: str, replay: bool = False) -> Ran:
    points = CI_CHAINS[service]
    with Scenario(
        stack,
        target=service,
        crash_at=crash_setting(points, SEED, MOST_HITS[service]),
        seed=SEED,
        cases=CASES,
        poison=needs_poison(points),
        tracing=TRACING[service],
    ) as scenario:
        try:
            outcome = copy.deepcopy(scenario.run_flow())
            print(to_json([outcome]))  # noqa: T201 - the figures, in the CI log
            ran = Ran(
                outcome,
                list(scenario.case_ids),
                dict(scenario.poison_offsets),
                scenario._per_case("referral", "referral")[scenario.case_ids[0]],
            )
            if replay:
                # Every case event a second time, byte for byte (same event ids).
                assert scenario.replay_case_events() >= 3 * CASES
                until(
                    "referral to consume the replayed events", scenario.consumed_to_end, timeout=120
                )
                scenario.wait_converged()
                ran.after_replay = copy.deepcopy(scenario.check())
            return ran
        except Exception:
            for proc in scenario.procs.values():
                print(f"===== {proc.name}\n{proc.log_tail()}")  # noqa: T201 - for the CI log
            raise


@pytest.fixture(scope="module")
def intake_chain(stack: LocalStack) -> Ran:
    return _run(stack, "intake", replay=True)


@pytest.fixture(scope="module")
def referral_chain(stack: LocalStack) -> Ran:
    return _run(stack, "referral")


@pytest.fixture(scope="module")
def registry_chain(stack: LocalStack) -> Ran:
    return _run(stack, "registry")


CHAINS = ["intake_chain", "referral_chain", "registry_chain"]


@pytest.mark.parametrize("chain", CHAINS)
def test_the_service_died_at_every_point_of_its_chain(
    chain: str, request: pytest.FixtureRequest
) -> None:
    o: Outcome = request.getfixturevalue(chain).outcome
    assert o.unreached == []
    assert o.crashes == list(CI_CHAINS[o.target])
    assert o.exit_statuses == [137] * len(o.crashes)


@pytest.mark.parametrize("chain", CHAINS)
def test_every_acknowledged_request_took_effect_exactly_once(
    chain: str, request: pytest.FixtureRequest
) -> None:
    ran: Ran = request.getfixturevalue(chain)
    o, cases = ran.outcome, len(ran.case_ids)
    assert cases >= CASES  # more when crash points were still due
    assert o.acknowledged == 3 * (cases + o.tracing_records)
    assert (o.lost, o.duplicated, o.problems) == (0, 0, [])
    # One assessment per case in intake, one referral per assessment, one offer per referral.
    assert (o.assessments, o.referrals, o.offers) == (cases, cases, cases)
    # One person index entry in registry per missing-person report.
    assert (o.tracing_records, o.indexed) == (TRACING[o.target], TRACING[o.target])


@pytest.mark.parametrize("chain", CHAINS)
def test_every_outbox_is_drained(chain: str, request: pytest.FixtureRequest) -> None:
    o: Outcome = request.getfixturevalue(chain).outcome
    assert o.outbox_pending == {"registry": 0, "referral": 0, "intake": 0}


def test_a_malformed_event_is_dead_lettered_once_with_its_reason_and_the_flow_behind_goes_on(
    referral_chain: Ran,
) -> None:
    partition, offset = referral_chain.poison_offsets["malformed"]
    letters = [
        d
        for d in referral_chain.outcome.dead_letters
        if (d["partition"], d["offset"]) == (partition, offset)
    ]
    assert len(letters) == 1
    assert letters[0]["reason"].startswith("MalformedEvent")
    # The case whose own events followed the poison in the same partition was referred.
    assert referral_chain.first_case_referrals == 1


def test_an_event_of_an_unknown_version_is_dead_lettered(referral_chain: Ran) -> None:
    partition, offset = referral_chain.poison_offsets["unknown-version"]
    assert [
        d
        for d in referral_chain.outcome.dead_letters
        if (d["partition"], d["offset"]) == (partition, offset)
    ]


def test_events_delivered_twice_change_nothing(intake_chain: Ran) -> None:
    again, cases = intake_chain.after_replay, len(intake_chain.case_ids)
    assert again is not None and again.duplicates_sent >= 3 * cases
    assert (again.lost, again.duplicated, again.problems) == (0, 0, [])
    assert (again.assessments, again.referrals, again.offers) == (cases, cases, cases)
