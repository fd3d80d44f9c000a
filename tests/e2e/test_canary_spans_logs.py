"""No personal data in spans or logs: a canary name planted in every request of the survivor flow
(the person's name, the assessment's notes, a query parameter of every request) is found in none
of the spans the services wrote to their span files and in none of the log records emitted while
the flow ran. The same run counts the audit entries written and checks that every served read of
the case carried a purpose of use.

The test client's own HTTP log (logger `httpx`, the caller's side, which prints the URLs it
requests) is the only log left out: it belongs to the test, not to a service.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trace_flow import PURPOSE, Services, running_services, span_text, survivor_flow

from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra
FIGURES = Path(__file__).resolve().parents[2] / ".run" / "canary-audit-figures.json"


@pytest.fixture(scope="module")
def services(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Services]:
    with running_services(stack, tmp_path_factory.mktemp("canary-spans")) as running:
        yield running


def _canary() -> str:
    """Letters only (a valid name), unique per run, in no other test."""
    return "Zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:14])


def _log_text(records: list[logging.LogRecord]) -> str:
    out = []
    for r in records:
        if r.name == "httpx" or r.name.startswith("httpx."):
            continue
        out.append(f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}")
    return "\n".join(out)


def _case_entries(services: Services, case_id: str) -> dict[str, list[dict[str, Any]]]:
    auditor = services.auth("audrey")
    found = {}
    for name, client in services.clients.items():
        r = client.get("/audit/entries", headers=auditor, params={
            "object_type": "case", "object_id": case_id, "limit": 1000})
        assert r.status_code == 200, r.text
        found[name] = r.json()["entries"]
    return found


def test_a_canary_planted_in_every_request_reaches_no_span_and_no_log(
        services: Services, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="haven_shared")
    caplog.set_level(logging.DEBUG, logger="referral")
    caplog.set_level(logging.DEBUG, logger="intake")
    caplog.set_level(logging.INFO)
    canary = _canary()
    flow = survivor_flow(services, name=f"{canary} Tesfaye", notes=f"Met {canary} at the port",
                         query={"note": canary})
    # The canary did reach the service: it is the person's name on the case.
    case = services.clients["intake"].get(f"/cases/{flow.case_id}",
                                          headers=services.auth("chris") | PURPOSE)
    assert canary in case.json()["person"]["display_name"]
    spans = span_text(services)
    logs = _log_text(caplog.records)
    # The flow did run under the eyes of both: spans of its trace, and log records.
    assert flow.trace_id in spans.replace("0x", "")
    assert caplog.records
    for text in (spans, logs):
        assert text.count(canary) == 0
        assert text.lower().count(canary.lower()) == 0

    entries = _case_entries(services, flow.case_id)
    reads = [e for part in entries.values() for e in part
             if e["action"].endswith((".read", ".list")) and e["outcome"] == "success"]
    with_purpose = [e for e in reads if e["purpose"]]
    figures = {
        "entries_on_the_case": {name: len(part) for name, part in entries.items()},
        "case_reads_served": len(reads),
        "case_reads_with_purpose": len(with_purpose),
        "share_with_purpose": len(with_purpose) / len(reads),
        "spans_written": spans.count("\n"),
        "log_records_scanned": len(caplog.records),
        "canary_occurrences": spans.count(canary) + logs.count(canary),
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    assert reads and figures["share_with_purpose"] == 1.0
    assert all(canary.lower() not in json.dumps(part).lower() for part in entries.values())
