"""Twenty seconds of cases filed while a seeded chaos loop SIGKILLs random service processes
(`bench/faults/soak.py` runs the 60-second version): nothing acknowledged is lost or done
twice, every outbox drains, and the chaos loop stopped by itself."""

from __future__ import annotations

import os

import pytest
from harness import to_json
from soak import Soak, SoakOutcome

from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra

SECONDS = float(os.environ.get("HAVEN_SOAK_SECONDS", "20"))
SEED = int(os.environ.get("HAVEN_FAULT_SEED", "0"))


@pytest.fixture(scope="module")
def soaked(stack: LocalStack) -> SoakOutcome:
    with Soak(stack, seconds=SECONDS, seed=SEED, max_kills=10) as soak:
        try:
            result = soak.churn()
        except Exception:
            for proc in soak.procs.values():
                print(f"===== {proc.name}\n{proc.log_tail()}")  # noqa: T201 - for the CI log
            raise
    print(to_json([result.outcome]) if result.outcome else "")  # noqa: T201 - the figures
    return result


def test_the_chaos_loop_killed_services_and_stopped_by_itself(soaked: SoakOutcome) -> None:
    assert 1 <= len(soaked.kills) <= 10
    assert {k["exit_status"] for k in soaked.kills} == {-9}


def test_every_acknowledged_request_took_effect_exactly_once(soaked: SoakOutcome) -> None:
    o = soaked.outcome
    assert o is not None and soaked.cases >= 1
    assert o.acknowledged == 3 * soaked.cases
    assert (o.lost, o.duplicated, o.problems) == (0, 0, [])
    assert (o.assessments, o.referrals, o.offers) == (soaked.cases,) * 3


def test_every_outbox_is_drained_after_the_chaos(soaked: SoakOutcome) -> None:
    assert soaked.outcome is not None
    assert soaked.outcome.outbox_pending == {"registry": 0, "referral": 0, "intake": 0}
