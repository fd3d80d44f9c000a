"""One trace across services, stitched for an auditor. Under one trace id: a family's
missing-person report and a found-person record filed at intake meet in the registry's person
index, which proposes the match; then a survivor's needs assessment becomes a referral in
referral (over Kafka), an offer on the partner's own topic and the partner's acceptance on its
responses topic. Each service's auditor API returns its spans (from its local span file) and
audit entries of that trace, and the stitched timeline shows every hop in order. An auditor
reads it; a caseworker or a partner is refused."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from trace_flow import (
    FlowResult,
    Services,
    new_trace,
    running_services,
    survivor_flow,
    tracing_flow,
)

from haven_shared.audit.traces import TIMELINE_COLUMNS, collect, to_csv, to_json_lines
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def services(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Services]:
    with running_services(stack, tmp_path_factory.mktemp("spans")) as running:
        yield running


@pytest.fixture(scope="module")
def flow(services: Services) -> FlowResult:
    trace_id, _ = new_trace()
    tracing_flow(services, trace_id)
    return survivor_flow(services, trace_id=trace_id)


def _auditor_clients(services: Services, user: str = "audrey") -> dict[str, Any]:
    """The apps' test clients carrying `user`'s token (TestClient is an httpx.Client)."""
    for client in services.clients.values():
        client.headers.update(services.auth(user))
    return services.clients


def _position(timeline: list[dict[str, Any]], what: str,
              match: Callable[[dict[str, Any]], bool], after: int) -> int:
    for i, item in enumerate(timeline):
        if i > after and match(item):
            return i
    raise AssertionError(f"{what} is missing after item {after}: "
                         + json.dumps([(t["service"], t["source"], t["name"])
                                       for t in timeline]))


def test_the_stitched_timeline_shows_every_hop_of_the_flow_in_order(
        services: Services, flow: FlowResult) -> None:
    timeline, status = collect(_auditor_clients(services), flow.trace_id)
    assert status == {"intake": "ok", "registry": "ok", "referral": "ok"}
    org = services.partner

    def span(service: str, name: str) -> Callable[[dict[str, Any]], bool]:
        return lambda i: (i["service"], i["source"], i["name"]) == (service, "span", name)

    def entry(service: str, action: str, actor: str | None = None
              ) -> Callable[[dict[str, Any]], bool]:
        return lambda i: ((i["service"], i["source"], i["name"]) == (service, "audit", action)
                          and (actor is None or i["actor"] == actor))

    hops = [
        ("the family's report", span("intake", "POST /cases/{case_id}/missing-person-reports")),
        ("its audit entry", entry("intake", "missing-person-report.create")),
        ("the found person's record", span("intake", "POST /cases/{case_id}/found-persons")),
        ("the registry consuming intake.case", span("registry", "process intake.case")),
        ("the registry's match proposal", entry("registry", "match.propose")),
        ("the proposal published", span("registry", "publish registry.match")),
        ("intake consuming the proposal", span("intake", "process registry.match")),
        ("intake's request", span("intake", "POST /cases/{case_id}/needs-assessments")),
        ("intake's audit entry", entry("intake", "needs-assessment.create")),
        ("referral consuming intake.case", span("referral", "process intake.case")),
        ("referral's decision to refer", entry("referral", "referral.create",
                                               "system:intake-assessment")),
        ("the offer published on the partner's topic",
         span("referral", f"publish partner.{org}.referrals")),
        ("referral consuming the partner's answer",
         span("referral", f"process partner.{org}.responses")),
        ("the partner's acceptance", entry("referral", "referral.accept", f"partner:{org}")),
        ("the status change published", span("referral", "publish referral.referral")),
    ]
    at = -1
    for what, match in hops:
        at = _position(timeline, what, match, at)
    times = [item["at"] for item in timeline]
    assert times == sorted(times)
    # The offer itself carried the trace to the partner.
    assert flow.offer_headers["traceparent"].split("-")[1] == flow.trace_id
    assert flow.offer_headers["ce_traceparent"] == flow.offer_headers["traceparent"]


def test_the_timeline_exports_as_json_lines_and_csv(services: Services,
                                                    flow: FlowResult) -> None:
    timeline, _ = collect(_auditor_clients(services), flow.trace_id)
    lines = "".join(to_json_lines(timeline)).splitlines()
    assert [json.loads(line) for line in lines] == timeline
    rows = list(csv.DictReader(io.StringIO("".join(to_csv(timeline)))))
    assert len(rows) == len(timeline)
    assert list(rows[0]) == TIMELINE_COLUMNS
    assert [(r["service"], r["source"], r["name"]) for r in rows] == [
        (t["service"], t["source"], t["name"]) for t in timeline]


def test_each_service_s_part_holds_only_its_own_trace(services: Services,
                                                      flow: FlowResult) -> None:
    clients = _auditor_clients(services)
    for name, client in clients.items():
        part = client.get(f"/audit/traces/{flow.trace_id}")
        assert part.status_code == 200, part.text
        body = part.json()
        assert body["service"] == name and body["spans_recorded"] is True
        assert body["spans"] and body["entries"]
        assert {e["service"] for e in body["entries"]} == {name}
    other = "0" * 31 + "1"
    empty = clients["referral"].get(f"/audit/traces/{other}").json()
    assert (empty["spans"], empty["entries"]) == ([], [])


@pytest.mark.parametrize("user", ["chris", "paula"])
def test_a_caseworker_or_a_partner_cannot_read_a_trace(services: Services, flow: FlowResult,
                                                       user: str) -> None:
    for name, client in services.clients.items():
        r = client.get(f"/audit/traces/{flow.trace_id}", headers=services.auth(user))
        assert r.status_code == 403, (name, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    timeline, status = collect(_auditor_clients(services, user), flow.trace_id)
    assert timeline == [] and set(status.values()) == {"HTTP 403"}


def test_a_malformed_trace_id_is_a_problem(services: Services) -> None:
    r = services.clients["intake"].get("/audit/traces/not-a-trace",
                                       headers=services.auth("audrey"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_span_files_are_where_the_settings_say(services: Services) -> None:
    assert all(Path(p).is_file() for p in services.span_files.values())
