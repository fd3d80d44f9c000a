"""Erasure reaches every copy: a canary planted in one person's names and free text, carried
through tracing (intake → registry matching) and survivor support (intake → referral → a
partner), is readable before the erasure and nowhere after it.

Searched, before and after: every table of the three services' databases (every text, JSON and
bytes column; clear text, and every sealed value opened with every key a holder could still use:
intake's and the registry's key stores and master keys, the secret intake and registry share,
and intake's matching-key service), every record of every topic the flows touched read from the
beginning (raw bytes, and sealed values opened the same way), the dead-letter stores, and the
log output and span files of the three services. The counts per sink are written to
`.run/erasure-canary-figures.json`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from sqlmodel import Session

from haven_shared.crypto import (
    ALG,
    MATCHING_ALG,
    SealBroken,
    SubjectErased,
    SubjectKeyring,
    open_with_key,
)
from haven_shared.events.envelope import Envelope
from haven_shared.events.intake import MissingPersonRecorded
from haven_shared.events.model import SealedPersonalData
from haven_shared.events.referral import PartnerReferralAnswered, partner_topic
from haven_shared.kafka import ensure_topics, make_producer
from haven_shared.testing.kafka_groups import start_group_at_end
from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap as intake_app
from intake.config import Settings as IntakeSettings
from referral.bootstrap import bootstrap as referral_app
from referral.config import Settings as ReferralSettings
from registry.adapters.intake_matching import IntakeMatchingKeys, MatchingOpener
from registry.bootstrap import bootstrap as registry_app
from registry.config import Settings as RegistrySettings

pytestmark = pytest.mark.infra

# A family name no one else uses, letters only (so matching treats it as a name).
CANARY = "Qv" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])
PARTNER = f"shelter-canary-{uuid.uuid4().hex[:6]}"
RESPONSES = f"partner.{PARTNER}.responses"
TOPICS = (
    "intake.case",
    "registry.match",
    "registry.provider",
    "referral.referral",
    partner_topic(PARTNER),
    RESPONSES,
)
MASTER = {
    "intake": "canary-intake-master",
    "registry": "canary-registry-master",
    "referral": "canary-referral-master",
}
SHARED_SECRET = f"canary-matching-secret-{uuid.uuid4().hex}"
FIGURES = Path(__file__).resolve().parents[2] / ".run" / "erasure-canary-figures.json"
_HAVEN_LOGGERS = ("intake", "registry", "referral", "haven_shared", "uvicorn", "fastapi")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Everything the services log while the module runs, in a file."""
    path = tmp_path_factory.mktemp("canary-logs") / "services.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in _HAVEN_LOGGERS}
    root.addHandler(handler)
    for name in _HAVEN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    handler.close()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(scope="module")
def services(stack: LocalStack, logs: Path) -> Iterator[dict[str, TestClient]]:
    """The three services on databases of their own, with their relays and consumers in groups
    of their own, spans written to files, and matching keys fetched from this intake."""
    run = uuid.uuid4().hex[:8]
    start_group_at_end(stack.kafka_bootstrap, f"canary-{run}", "registry.provider")
    start_group_at_end(stack.kafka_bootstrap, f"canary-{run}-intake", "intake.case")
    start_group_at_end(stack.kafka_bootstrap, f"canary-index-{run}", "intake.case")
    ensure_topics(stack.kafka_bootstrap, dict.fromkeys(TOPICS, 3))

    def common(service: str) -> dict[str, Any]:
        return {
            "environment": "test",
            "database_url": stack.create_database(f"{service}_canary"),
            "kafka_bootstrap": stack.kafka_bootstrap,
            "keycloak_issuer": stack.issuer,
            "jwt_leeway_seconds": 0,
            "master_key": MASTER[service],
            "telemetry_exporter": "file",
            "telemetry_file": str(logs.parent / f"{service}-spans.jsonl"),
        }

    intake = intake_app(
        IntakeSettings(
            **common("intake"),
            matching_key=SHARED_SECRET,
            outcome_consumer_group=f"canary-outcomes-{run}",
        )
    )
    apps = {
        "intake": intake,
        "registry": registry_app(
            RegistrySettings(
                **common("registry"),
                matching_key=SHARED_SECRET,
                relay_idle_seconds=0.05,
                index_consumer_group=f"canary-index-{run}",
            ),
            intake_client=TestClient(intake),
        ),
        "referral": referral_app(
            ReferralSettings(
                **common("referral"),
                consumer_group=f"canary-{run}",
                relay_idle_seconds=0.05,
                topic_discovery_ms=1000,
                escalation_interval_seconds=0,
            )
        ),
    }
    clients = {name: TestClient(app) for name, app in apps.items()}
    for client in clients.values():
        client.__enter__()
    try:
        yield clients
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)
        for app in apps.values():
            app.state.engine.dispose()
            stack.drop_database(app.state.engine.url.render_as_string(hide_password=False))


def _until(what: str, probe: Callable[[], Any], timeout: float = 240.0) -> Any:
    # Generous: on a machine shared by many test sessions each hop can take tens of seconds.
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return value


def _registry_state(registry: TestClient) -> dict[str, Any]:
    """What the person index had done, to tell a slow consumer from a parked record."""
    with registry.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        return {
            "indexed": conn.execute(sa.text("SELECT count(*) FROM person_index_entry")).scalar(),
            "inbox": conn.execute(sa.text("SELECT count(*) FROM inbox")).scalar(),
            "dead_letters": [
                tuple(r)
                for r in conn.execute(sa.text("SELECT event_type, reason, attempts FROM dead_letter"))
            ],
        }


# ---- the search ------------------------------------------------------------------------------


class Keys:
    """Every key a holder could still use to open a sealed value."""

    def __init__(self, services: dict[str, TestClient]) -> None:
        self.engines = {name: c.app.state.engine for name, c in services.items()}  # type: ignore[attr-defined]
        self.keyrings = {name: SubjectKeyring(MASTER[name]) for name in ("intake", "registry")}
        self.legacy = MatchingOpener(SHARED_SECRET)
        self.matching_keys = IntakeMatchingKeys("", SHARED_SECRET, client=services["intake"])

    def open(self, sealed: SealedPersonalData) -> str | None:
        """The plaintext (JSON) if any key still opens the value, else None."""
        if sealed.alg == MATCHING_ALG:
            try:
                return json.dumps(
                    open_with_key(self.matching_keys.fetch(sealed.key_id), sealed),
                    ensure_ascii=False,
                )
            except (SubjectErased, SealBroken):
                return None
        if sealed.alg != ALG:
            return None
        for name, keyring in self.keyrings.items():
            with Session(self.engines[name]) as session:
                try:
                    return json.dumps(keyring.open(session, sealed), ensure_ascii=False)
                except (SubjectErased, SealBroken):
                    pass
        try:
            return json.dumps(self.legacy.open(sealed), ensure_ascii=False)
        except (SubjectErased, SealBroken):
            return None


def _sealed_values(value: Any) -> Iterator[SealedPersonalData]:
    """Every sealed value inside a JSON document."""
    if isinstance(value, dict):
        if {"key_id", "nonce", "ciphertext"} <= value.keys():
            try:
                yield SealedPersonalData.model_validate(value)
            except ValueError:
                pass
            return
        for v in value.values():
            yield from _sealed_values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _sealed_values(v)


def _as_json(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, (bytes, memoryview, str)):
        text = bytes(value).decode("utf-8", "replace") if not isinstance(value, str) else value
        try:
            return json.loads(text)
        except ValueError:
            return None
    return None


def _count(text_or_bytes: Any, keys: Keys) -> tuple[int, int]:
    """(clear occurrences, occurrences in sealed values that still open) in one value."""
    if isinstance(text_or_bytes, (dict, list)):
        raw = json.dumps(text_or_bytes, ensure_ascii=False)
    elif isinstance(text_or_bytes, (bytes, memoryview)):
        raw = bytes(text_or_bytes).decode("utf-8", "replace")
    else:
        raw = str(text_or_bytes)
    clear = raw.count(CANARY)
    opened = sum(
        (keys.open(s) or "").count(CANARY) for s in _sealed_values(_as_json(text_or_bytes))
    )
    return clear, opened


def _search_database(engine: sa.Engine, keys: Keys, only: set[str] | None = None) -> dict[str, int]:
    """Readable canaries in every table (or in `only`), by table."""
    found: dict[str, int] = {}
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if only is not None and table.name not in only:
                continue
            n = 0
            for row in conn.execute(sa.select(table)):
                for value in row:
                    if value is None or isinstance(value, (int, float, bool)):
                        continue
                    clear, opened = _count(value, keys)
                    n += clear + opened
            if n:
                found[table.name] = n
    return found


def _search_topics(bootstrap: str, keys: Keys) -> dict[str, int]:
    """Readable canaries in every record of the topics, from the beginning, by topic."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=2000,
    )
    try:
        parts = [
            TopicPartition(t, p)
            for t in TOPICS
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        found = dict.fromkeys(TOPICS, 0)
        done = {tp for tp in parts if ends[tp] == 0}
        deadline = time.monotonic() + 300
        while len(done) < len(parts) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=1000, max_records=2000).items():
                for r in records:
                    raw = (
                        (r.key or b"")
                        + (r.value or b"")
                        + b"".join((v or b"") for _, v in r.headers)
                    )
                    clear, _ = _count(raw, keys)
                    opened = (
                        _count(r.value or b"", keys)[1] if CANARY_KEYS & _key_ids(r.value) else 0
                    )
                    found[tp.topic] += clear + opened
                if consumer.position(tp) >= ends[tp]:
                    done.add(tp)
        assert len(done) == len(parts), "the topics were not read to their ends"
        return found
    finally:
        consumer.close()


CANARY_KEYS: set[str] = set()  # the subject key ids of this test's records (filled before)


def _key_ids(value: bytes | None) -> set[str]:
    return {s.key_id for s in _sealed_values(_as_json(value or b""))}


def _search_files(paths: list[Path]) -> dict[str, int]:
    return {
        p.name: p.read_text("utf-8", "replace").count(CANARY) if p.exists() else 0 for p in paths
    }


def _sinks(services: dict[str, TestClient], stack: LocalStack, logs: Path) -> dict[str, Any]:
    keys = Keys(services)
    out: dict[str, Any] = {}
    for name, engine in keys.engines.items():
        tables = _search_database(engine, keys)
        out[f"db:{name}"] = sum(tables.values())
        out[f"db:{name}:tables"] = tables
        out[f"dead-letters:{name}"] = _search_database(engine, keys, {"dead_letter"}).get(
            "dead_letter", 0
        )
        out[f"outbox:{name}"] = _search_database(engine, keys, {"outbox"}).get("outbox", 0)
    for topic, n in _search_topics(stack.kafka_bootstrap, keys).items():
        out[f"topic:{topic.replace(PARTNER, '<partner>')}"] = n
    for name, n in _search_files(
        [logs, *(logs.parent / f"{s}-spans.jsonl" for s in ("intake", "registry", "referral"))]
    ).items():
        out[f"file:{name}"] = n
    return out


# ---- the flows -------------------------------------------------------------------------------


def _auth(stack: LocalStack, user: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {stack.password_token(user)}",
        "X-Purpose-Of-Use": "canary-search",
    }


def _tracing_case(intake: TestClient, ana: dict[str, str], kind: str) -> str:
    r = intake.post(
        "/cases",
        headers=ana,
        json={"kind": kind, "risk_level": "high", "person": {"display_name": f"Amani {CANARY}"}},
    )
    assert r.status_code == 201, r.text
    case_id = str(r.json()["id"])
    r = intake.post(f"/cases/{case_id}/consents", json={"purpose": "tracing"}, headers=ana)
    assert r.status_code == 201, r.text
    return case_id


def _person(**extra: Any) -> dict[str, Any]:
    return {
        "names": [{"text": f"Amani {CANARY}", "script": "Latn", "romanised": True}],
        "sex": "female",
        "date_of_birth": "1996-03-14",
        "nationalities": ["ER"],
        "languages": ["ti"],
        "sharing_scope": ["tracing-service"],
        **extra,
    }


def _answer(stack: LocalStack, referral_id: str, action: str) -> None:
    env = Envelope.wrap(
        PartnerReferralAnswered(referral_id=uuid.UUID(referral_id), action=action),
        f"/partners/{PARTNER}",
    )
    producer = make_producer(stack.kafka_bootstrap)
    producer.send(RESPONSES, key=env.key.encode(), value=env.body(), headers=env.kafka_headers())
    producer.flush(30)
    producer.close()


def _poison(stack: LocalStack, intake: TestClient) -> None:
    """Publish her report's event again under a new id with a matching part that no longer
    authenticates (one character of its ciphertext changed)."""
    with intake.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        payload = conn.execute(
            sa.text(
                "SELECT payload FROM outbox WHERE type = 'haven.intake.missing-person.recorded.v1'"
            )
        ).scalar_one()
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    event = MissingPersonRecorded.model_validate(payload)
    assert event.matching is not None
    text = event.matching.ciphertext
    damaged = event.matching.model_copy(
        update={"ciphertext": ("A" if text[0] != "A" else "B") + text[1:]}
    )
    env = Envelope.wrap(event.model_copy(update={"matching": damaged}), "/haven/intake")
    producer = make_producer(stack.kafka_bootstrap)
    producer.send(event.topic, key=env.key.encode(), value=env.body(), headers=env.kafka_headers())
    producer.flush(30)
    producer.close()


def _dead_letters(registry: TestClient) -> int:
    with registry.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(sa.text("SELECT count(*) FROM dead_letter")).scalar())


def test_after_erasure_no_copy_of_the_canary_can_be_read_anywhere(
    stack: LocalStack, services: dict[str, TestClient], logs: Path
) -> None:
    intake, registry, referral = services["intake"], services["registry"], services["referral"]
    ana, dora, adam = (_auth(stack, u) for u in ("ana", "dora", "adam"))

    # Tracing: her brother's report (ngo-a) and the record of her found in a hospital.
    sought = _tracing_case(intake, ana, "missing-person")
    r = intake.post(
        f"/cases/{sought}/missing-person-reports",
        headers=ana,
        json=_person(
            physical_description=f"Tattoo reading {CANARY} on the left arm.",
            last_seen={
                "place": "Zuwara, Libya",
                "date": "2025-06-02",
                "circumstances": "shipwreck",
            },
            enquirer={"name": "Selam Tesfaye", "relationship": "sibling", "contact": "+31 6 0"},
        ),
    )
    assert r.status_code == 201, r.text
    found = _tracing_case(intake, ana, "found-person")
    r = intake.post(
        f"/cases/{found}/found-persons",
        headers=ana,
        json=_person(found_setting="hospital", found_place="Lampedusa", found_date="2025-09-10"),
    )
    assert r.status_code == 201, r.text

    def proposed() -> Any:
        with registry.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
            return conn.execute(sa.text("SELECT count(*) FROM match_candidate")).scalar()

    try:
        _until("the registry's match proposal", proposed)
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}; the registry then: {_registry_state(registry)}"
                             ) from None

    # Survivor support: her own case, a shelter need referred to the partner, which accepts.
    org = registry.post(
        "/directory/organisations",
        headers=dora,
        json={"name": "Canary Shelter", "description": "Shelter for women.", "code": PARTNER},
    )
    assert org.status_code == 201, org.text
    service = registry.post(
        "/directory/services",
        headers=dora,
        json={
            "organisation_id": org.json()["id"],
            "name": "Women's shelter",
            "kind": "shelter",
            "eligibility": {"genders": ["female"], "women_only": True},
            "languages": ["ti"],
            "capacity": {"unit": "bed", "available": 3},
        },
    )
    assert service.status_code == 201, service.text
    r = intake.post(
        "/cases",
        headers=ana,
        json={
            "kind": "survivor-support",
            "person": {"display_name": f"Amani {CANARY}", "estimated_age": 29},
        },
    )
    assert r.status_code == 201, r.text
    survivor = str(r.json()["id"])
    r = intake.post(
        f"/cases/{survivor}/consents",
        headers=ana,
        json={"purpose": "services", "partner_kinds": ["shelter"]},
    )
    assert r.status_code == 201, r.text
    r = intake.post(
        f"/cases/{survivor}/needs-assessments",
        headers=ana,
        json={
            "needs": [{"kind": "shelter", "urgency": "immediate"}],
            "women_only_shelter": True,
            "languages": ["ti"],
            "notes": f"{CANARY} asked for a room with her sister.",
        },
    )
    assert r.status_code == 201, r.text
    referrals = _until(
        "the referral",
        lambda: referral.get(f"/cases/{survivor}/referrals", headers=ana).json().get("referrals"),
    )
    referral_id = referrals[0]["id"]
    _until(
        "the offer",
        lambda: referral.get(f"/referrals/{referral_id}", headers=ana).json().get("offers"),
    )
    _answer(stack, referral_id, "accept")
    _until(
        "the acceptance",
        lambda: (
            referral.get(f"/referrals/{referral_id}", headers=ana).json()["status"] == "accepted"
        ),
    )

    # A copy of her report whose matching part was damaged on the way: the registry parks it
    # (after its retries) in its dead-letter store, with her sealed details in it.
    _poison(stack, intake)
    _until("the parked copy", lambda: _dead_letters(registry))

    # The subjects' key ids (random), to know which sealed values on the topics are hers.
    with intake.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        CANARY_KEYS.update(conn.execute(sa.text("SELECT key_id FROM subject_key")).scalars())

    before = _sinks(services, stack, logs)

    for case_id in (sought, found, survivor):
        r = intake.post(
            f"/subjects/{case_id}/erasure", headers=adam, json={"reason": "data-subject-request"}
        )
        assert r.status_code == 200, r.text

    # The registry and referral have applied the erasure; intake's outbox is drained.
    def entries() -> int:
        with registry.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
            return int(conn.execute(sa.text("SELECT count(*) FROM person_index_entry")).scalar())

    _until("the registry's erasure", lambda: entries() == 0)

    def partner_told() -> bool:
        with referral.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
            return bool(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM outbox WHERE type = 'haven.partner.subject.erased.v1' "
                        "AND sent_at IS NOT NULL"
                    )
                ).scalar()
            )

    _until("the partner's deletion notice", partner_told)

    def drained() -> bool:
        with intake.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
            return (
                conn.execute(sa.text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar()
                == 0
            )

    _until("intake's outbox", drained)

    after = _sinks(services, stack, logs)
    verdicts = {
        name: c.get("/audit/verify", headers=_auth(stack, "audrey")) for name, c in services.items()
    }
    spans = {
        s: (logs.parent / f"{s}-spans.jsonl").stat().st_size
        for s in ("intake", "registry", "referral")
    }
    figures = {
        "canary_length": len(CANARY),
        "log_bytes": logs.stat().st_size,
        "span_file_bytes": spans,
        "before": before,
        "after": after,
        "audit_chains_ok": {
            n: v.json().get("ok") for n, v in verdicts.items() if v.status_code == 200
        },
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")

    counted = {k: v for k, v in after.items() if isinstance(v, int)}
    assert all(v == 0 for v in counted.values()), after
    # The search finds what is there: the sinks that held her data sealed could open it before.
    assert before["db:intake"] > 0 and before["db:registry"] > 0
    assert before["topic:intake.case"] > 0 and before["dead-letters:registry"] > 0
    # What never held it in the first place.
    for sink in (
        "db:referral",
        "topic:referral.referral",
        "topic:registry.match",
        f"topic:{partner_topic('<partner>')}",
        "file:services.log",
    ):
        assert before[sink] == 0, (sink, before)
    assert logs.stat().st_size > 0 and all(size > 0 for size in spans.values())
    assert figures["audit_chains_ok"].get("intake") is True
