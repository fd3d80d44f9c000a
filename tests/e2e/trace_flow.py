"""The flows the tracing tests share: intake, registry and referral as apps on the real stack,
each writing its spans to a JSON-lines file of its own.

- Tracing: a family's missing-person report and a found-person record, sent under a trace id the
  test chooses, meet in the registry's person index, which proposes the match.
- Survivor support: a needs assessment sent under a trace id becomes a referral offered on a
  partner's own topic, and the partner accepts on its responses topic under the same trace (as a
  partner following the CloudEvents distributed-tracing extension does).

Everything on the shared broker is this flow's own: a partner organisation made for the run,
consumer groups of the run started at the end of the topics they read.
"""

from __future__ import annotations

import re
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from kafka import KafkaAdminClient, TopicPartition

from haven_shared.events.envelope import Envelope
from haven_shared.events.referral import PartnerReferralAnswered, partner_topic
from haven_shared.kafka import ensure_topics, make_consumer, make_producer
from haven_shared.testing.kafka_groups import start_group_at_end
from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap as intake_app
from intake.config import Settings as IntakeSettings
from intake.worker import outcome_handlers
from referral.adapters.partner_topics import RESPONSES_PATTERN
from referral.bootstrap import bootstrap as referral_app
from referral.config import Settings as ReferralSettings
from referral.service_layer.providers import project_provider
from registry.bootstrap import bootstrap as registry_app
from registry.config import Settings as RegistrySettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "referral"))
from referral_builders import provider_state, upserted  # noqa: E402

PURPOSE = {"X-Purpose-Of-Use": "survivor-support"}


@dataclass
class Services:
    """The running apps, their span files and the run's partner organisation."""

    stack: LocalStack
    clients: dict[str, TestClient]
    span_files: dict[str, Path]
    partner: str

    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        """The Authorization header of a real token of `user` (kept a minute; retried once:
        Keycloak on a busy machine now and then refuses a grant)."""
        token, fetched = self.tokens.get(user, ("", 0.0))
        if time.monotonic() - fetched > 60:
            try:
                token = self.stack.password_token(user)
            except Exception:  # noqa: BLE001 - a second try, then the error stands
                time.sleep(2)
                token = self.stack.password_token(user)
            self.tokens[user] = (token, time.monotonic())
        return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class FlowResult:
    trace_id: str
    case_id: str
    referral_id: str
    offer_headers: dict[str, str]


def new_trace() -> tuple[str, str]:
    """A fresh trace id and the W3C `traceparent` of a sampled root span in it."""
    trace_id = secrets.token_hex(16)
    return trace_id, traceparent_in(trace_id)


def traceparent_in(trace_id: str) -> str:
    """The W3C `traceparent` of a new sampled span in the trace `trace_id`."""
    return f"00-{trace_id}-{secrets.token_hex(8)}-01"


def _responses_topics(bootstrap: str) -> list[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        pattern = re.compile(RESPONSES_PATTERN)
        return sorted(t for t in admin.list_topics() if pattern.match(t))
    finally:
        admin.close()


@contextmanager
def running_services(stack: LocalStack, span_dir: Path) -> Iterator[Services]:
    """Intake, registry and referral on databases of their own, spans to files in `span_dir`."""
    run = uuid.uuid4().hex[:8]
    partner = f"tr{run}"
    bootstrap = stack.kafka_bootstrap
    ensure_topics(bootstrap, {"intake.case": 3, "referral.referral": 3, "registry.match": 3})
    referral_group, intake_group = f"trace-{run}", f"trace-intake-{run}"
    start_group_at_end(bootstrap, f"{referral_group}-intake", "intake.case")
    for topic in _responses_topics(bootstrap):
        start_group_at_end(bootstrap, f"{referral_group}-partner-responses", topic)
    for topic in sorted({model.topic for model in outcome_handlers()}):
        start_group_at_end(bootstrap, intake_group, topic)
    index_group = f"trace-index-{run}"
    start_group_at_end(bootstrap, index_group, "intake.case")
    names = ("intake", "registry", "referral")
    span_files = {name: span_dir / f"{name}.jsonl" for name in names}
    common: dict[str, Any] = {"environment": "test", "kafka_bootstrap": bootstrap,
                              "keycloak_issuer": stack.issuer, "jwt_leeway_seconds": 0,
                              "telemetry_exporter": "file"}
    urls = {name: stack.create_database(f"{name}_trace") for name in names}
    intake = intake_app(IntakeSettings(
        **common, database_url=urls["intake"], telemetry_file=str(span_files["intake"]),
        outcome_consumer_group=intake_group, master_key="trace-intake-master-key"))
    apps = {
        "intake": intake,
        "registry": registry_app(RegistrySettings(
            **common, database_url=urls["registry"],
            telemetry_file=str(span_files["registry"]), index_consumer_group=index_group,
            relay_idle_seconds=0.05, master_key="trace-registry-master-key"),
            intake_client=TestClient(intake)),
        "referral": referral_app(ReferralSettings(
            **common, database_url=urls["referral"],
            telemetry_file=str(span_files["referral"]), consumer_group=referral_group,
            relay_idle_seconds=0.05, provider_consumer_enabled=False,
            escalation_interval_seconds=0, master_key="trace-referral-master-key")),
    }
    clients = {name: TestClient(app) for name, app in apps.items()}
    for client in clients.values():
        client.__enter__()
    try:
        deps = apps["referral"].state.referral_deps
        with deps.uows() as uow:
            project_provider(upserted(provider_state(  # type: ignore[arg-type]
                partner, area="any", women_only=True, child_qualified=True,
                genders=("female",), languages=("ti", "en"))), uow)
            uow.commit()
        yield Services(stack, clients, span_files, partner)
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)
        for name, app in apps.items():
            app.state.engine.dispose()
            stack.drop_database(urls[name])


def until(what: str, probe: Callable[[], Any], timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def _offer_headers(services: Services, referral_id: str) -> dict[str, str]:
    topic = partner_topic(services.partner)
    consumer = make_consumer(services.stack.kafka_bootstrap, f"partner-{uuid.uuid4().hex[:8]}")
    try:
        parts = [TopicPartition(topic, p) for p in sorted(
            until("the partner topic", lambda: consumer.partitions_for_topic(topic)))]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)

        def find() -> Any:
            for records in consumer.poll(timeout_ms=300).values():
                for r in records:
                    if r.key == referral_id.encode():
                        return r
            return None

        record = until("the offer on the partner's topic", find)
    finally:
        consumer.close()
    return {k: v.decode() for k, v in record.headers}


def tracing_flow(services: Services, trace_id: str) -> str:
    """A missing-person report and a found-person record of the same woman (her name
    romanised two ways), each case with tracing consent, filed under `trace_id`; returns the
    id of the match the registry proposes."""
    intake, registry = services.clients["intake"], services.clients["registry"]
    ana = services.auth("ana")
    person = {"sex": "female", "date_of_birth": "1996-03-14", "nationalities": ["ER"],
              "languages": ["ti"], "sharing_scope": ["tracing-service"]}
    records = {
        "missing-person": ("missing-person-reports", "Abrehet Tesfamariam", {
            "last_seen": {"place": "Zuwara, Libya", "date": "2025-06-02",
                          "circumstances": "shipwreck"},
            "enquirer": {"name": "Yonas Tesfamariam", "relationship": "sibling",
                         "contact": "+31 6 0"}}),
        "found-person": ("found-persons", "Abreht Tesfamaryam", {
            "found_setting": "hospital", "found_place": "Lampedusa",
            "found_date": "2025-09-10"}),
    }
    for kind, (path, display_name, extra) in records.items():
        traced = ana | {"traceparent": traceparent_in(trace_id)}
        case = intake.post("/cases", headers=traced, json={
            "kind": kind, "person": {"display_name": display_name}})
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        consent = intake.post(f"/cases/{case_id}/consents", headers=traced,
                              json={"purpose": "tracing"})
        assert consent.status_code == 201, consent.text
        record = intake.post(f"/cases/{case_id}/{path}", headers=traced, json={
            "names": [{"text": display_name, "script": "Latn", "romanised": True}],
            **person, **extra})
        assert record.status_code == 201, record.text

    def proposed() -> Any:
        r = registry.get("/matches", headers=services.auth("tom") | {
            "X-Purpose-Of-Use": "tracing"})
        return r.status_code == 200 and r.json()

    return str(until("the registry's match proposal", proposed)[0]["id"])


def survivor_flow(services: Services, *, name: str = "Selam Tesfaye", notes: str | None = None,
                  query: dict[str, str] | None = None, trace_id: str | None = None
                  ) -> FlowResult:
    """Case, consent, needs assessment (under `trace_id`, else a new trace), referral, partner
    acceptance."""
    intake, referral = services.clients["intake"], services.clients["referral"]
    chris = services.auth("chris")
    query = query or {}
    case = intake.post("/cases", params=query, headers=chris, json={
        "kind": "survivor-support", "person": {"display_name": name, "estimated_age": 16}})
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    consent = intake.post(f"/cases/{case_id}/consents", params=query, headers=chris,
                          json={"purpose": "services", "partner_kinds": ["shelter"]})
    assert consent.status_code == 201, consent.text
    trace_id, traceparent = (trace_id, traceparent_in(trace_id)) if trace_id else new_trace()
    needs = intake.post(f"/cases/{case_id}/needs-assessments", params=query,
                        headers=chris | {"traceparent": traceparent}, json={
                            "needs": [{"kind": "shelter", "urgency": "immediate"}],
                            "women_only_shelter": True, "languages": ["ti"], "notes": notes})
    assert needs.status_code == 201, needs.text

    def referred() -> Any:
        r = referral.get(f"/cases/{case_id}/referrals", params=query,
                         headers=chris | PURPOSE)
        return r.status_code == 200 and r.json()["referrals"]

    referral_id = until("the referral of the assessed need", referred)[0]["id"]
    headers = _offer_headers(services, referral_id)
    # The partner answers under the trace its offer came with (CloudEvents distributed tracing).
    answer = Envelope.wrap(PartnerReferralAnswered(referral_id=uuid.UUID(referral_id),
                                                   action="accept"),
                           f"/partners/{services.partner}").with_trace(
        {"traceparent": headers["traceparent"]})
    # Only the CloudEvents extension header, as a partner using a CloudEvents SDK writes it.
    headers_out = [(k, v) for k, v in answer.kafka_headers() if k not in ("traceparent",
                                                                           "tracestate")]
    producer = make_producer(services.stack.kafka_bootstrap)
    producer.send(f"partner.{services.partner}.responses", key=answer.key.encode(),
                  value=answer.body(), headers=headers_out).get(timeout=30)
    producer.close()
    until("the partner's acceptance", lambda: referral.get(
        f"/referrals/{referral_id}", params=query, headers=chris | PURPOSE
    ).json()["status"] == "accepted")

    def on_intake_case() -> Any:
        body = intake.get(f"/cases/{case_id}/outcomes", params=query,
                          headers=chris | PURPOSE).json()
        return [r for r in body.get("referrals", [])
                if r.get("referral_id", r.get("id")) == referral_id
                and r.get("status") == "accepted"]

    until("the acceptance on intake's case", on_intake_case)
    return FlowResult(trace_id, case_id, referral_id, headers)


def span_text(services: Services) -> str:
    """Everything the services' span files hold (after flushing what is pending)."""
    for client in services.clients.values():
        client.app.state.tracer_provider.force_flush()  # type: ignore[attr-defined]
    from opentelemetry import trace

    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush:
        flush()
    return "".join(p.read_text("utf-8") for p in services.span_files.values() if p.exists())

