"""Schemathesis against the three services' OpenAPI, in-process on PostgreSQL, real tokens.

Every operation gets schema-valid (positive) and schema-violating (negative) requests from a
fixed seed, each checked by every schemathesis check but one (see `EXCLUDED`), plus ours: an
error answer is RFC 9457 problem+json. Failures are collected, not shrunk, so the budget stays CI-sized; the figures go
to `.run/fuzz-figures.json`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from world import World

pytestmark = pytest.mark.infra

SEED = 20261123
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
# Every schemathesis check runs except one: the services validate beyond JSON Schema (cross-field
# rules such as "object_id needs object_type", consent required to share, NFC names without
# control characters, dates not in the future, HSDS content), so a schema-valid request may
# rightly get 422. Such a 422 must still be problem+json naming the rule (checked below), and
# every other answer to a schema-valid request is checked as usual.
EXCLUDED = [positive_data_acceptance]
FIGURES = Path(__file__).resolve().parents[2] / ".run" / "fuzz-figures.json"
RESULTS: dict[str, dict[str, Any]] = {}


def user_for(service: str, path: str) -> str:
    """The demo user whose roles reach this path (so the fuzzer gets past authorisation)."""
    if path.startswith("/audit"):
        return "audrey"
    if path.startswith(("/admin", "/subjects")):
        return "adam"
    if service == "intake":
        return "sara"
    if service == "referral":
        return "paula" if path.startswith("/partner") else "ana"
    if path.startswith("/matches"):
        return "tom"
    if path.startswith("/family-notifications"):
        return "sara"
    return "dora"


def fuzz_operation(
    world: World,
    service: str,
    op: Any,
    mode: GenerationMode,
    failures: list[str],
    counts: Counter[str],
) -> None:
    path = op.path
    headers = {**world.headers(user_for(service, path)), "X-Purpose-Of-Use": "case-management"}

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        counts["cases"] += 1
        try:
            response = case.call(headers=headers)
        except Exception as e:  # noqa: BLE001 - a transport crash is a finding, not a test error
            failures.append(f"{service} {op.label} [{mode}]: {type(e).__name__}: {e}"[:400])
            return
        status = response.status_code
        counts[f"{status // 100}xx"] += 1
        try:
            case.validate_response(response, headers=headers, excluded_checks=EXCLUDED)
        except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - collect every failure
            failures.append(f"{service} {op.label} [{mode}] {status}: {str(e)[:1200]}")
        content_type = response.headers.get("content-type") or [""]
        if status >= 400 and not content_type[0].startswith("application/problem+json"):
            failures.append(f"{service} {op.label} [{mode}] {status}: not problem+json")

    try:
        run()
    except Unsatisfiable:
        counts["unsatisfiable"] += 1  # nothing to negate (an operation without inputs)


@pytest.mark.parametrize("service", ["intake", "referral", "registry"])
def test_schemathesis_finds_no_server_error_and_no_failed_check(
    fuzz_world: World, service: str
) -> None:
    client = fuzz_world.clients[service]
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    counts: Counter[str] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1
        for mode in EXAMPLES:
            fuzz_operation(fuzz_world, service, op, mode, failures, counts)
    unique = sorted(set(failures))
    RESULTS[service] = {
        "operations": operations,
        "cases": counts["cases"],
        "server_errors": counts["5xx"],
        "failures": len(unique),
        "by_status_class": {k: v for k, v in counts.items() if k.endswith("xx")},
        "negative_unsatisfiable": counts["unsatisfiable"],
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps({"seed": SEED, **RESULTS}, indent=2) + "\n")
    print(json.dumps(RESULTS[service]))
    assert counts["cases"] > operations * 5
    dump = Path(__file__).resolve().parents[2] / ".run" / f"fuzz-failures-{service}.txt"
    dump.write_text("\n\n".join(unique))
    assert unique == [], "\n".join(unique[:60])
