"""Erasure of data subjects in intake: an administrator names a case or a record, the subjects'
keys are destroyed (their data can no longer be opened here or on the topic), the other services
are told on `intake.case`, and the erasure is audited with the chain still intact."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import payloads
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from intake_topic import TopicReader
from sqlmodel import Session

from haven_shared.crypto import SubjectErased, SubjectKeyring
from haven_shared.events.model import SealedPersonalData

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]
ERASED = "haven.intake.subject.erased.v1"


def _canary() -> str:
    return "Z" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])


def _tracing_case(client: TestClient, auth: Auth, name: str) -> tuple[str, str]:
    ana = auth("ana")
    r = client.post(
        "/cases",
        json={"kind": "missing-person", "risk_level": "high", "person": {"display_name": name}},
        headers=ana,
    )
    assert r.status_code == 201, r.text
    case_id = str(r.json()["id"])
    r = client.post(
        f"/cases/{case_id}/missing-person-reports",
        json=payloads.missing_person(names=[{"text": f"{name} Tesfaye"}]),
        headers=ana,
    )
    assert r.status_code == 201, r.text
    return case_id, str(r.json()["id"])


def _erase(
    client: TestClient,
    auth: Auth,
    ref: str,
    user: str = "adam",
    reason: str = "data-subject-request",
) -> Any:
    return client.post(f"/subjects/{ref}/erasure", json={"reason": reason}, headers=auth(user))


def _opens(db_url: str, sealed: dict[str, Any]) -> bool:
    engine = sa.create_engine(db_url)
    try:
        with Session(engine) as session:
            SubjectKeyring("integration-test-master-key").open(
                session, SealedPersonalData.model_validate(sealed)
            )
            return True
    except SubjectErased:
        return False
    finally:
        engine.dispose()


def test_erasing_a_case_makes_its_records_and_events_unreadable_and_tells_the_others(
    client: TestClient, auth: Auth, topic: TopicReader, intake_db_url: str
) -> None:
    name = _canary()
    case_id, report_id = _tracing_case(client, auth, name)
    recorded = json.loads(topic.wait_for(case_id, "haven.intake.missing-person.recorded.v1").value)
    assert _opens(intake_db_url, recorded["subject"])

    r = _erase(client, auth, case_id)
    assert r.status_code == 200, r.text
    body = r.json()
    # The person of the case, the sought person and the enquirer.
    assert (body["case_id"], body["case_subject"], body["subjects"], body["keys_destroyed"]) == (
        case_id,
        True,
        3,
        3,
    )

    assert not _opens(intake_db_url, recorded["subject"])
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/missing-person-reports/{report_id}"):
        gone = client.get(path, headers=auth("ana") | payloads.READ)
        assert gone.status_code == 410, gone.text
        assert gone.headers["content-type"].startswith("application/problem+json")
        assert name not in gone.text

    event = topic.wait_for(case_id, ERASED)
    assert name.encode() not in event.value
    erased = json.loads(event.value)
    assert erased["case_subject"] is True and erased["reason"] == "data-subject-request"
    assert erased["record_ids"] == [report_id]
    assert recorded["subject"]["key_id"] in erased["key_ids"] and len(erased["key_ids"]) == 3


def test_nothing_can_be_filed_for_an_erased_case(client: TestClient, auth: Auth) -> None:
    case_id, _ = _tracing_case(client, auth, _canary())
    assert _erase(client, auth, case_id).status_code == 200
    r = client.post(
        f"/cases/{case_id}/missing-person-reports",
        json=payloads.missing_person(),
        headers=auth("ana"),
    )
    assert r.status_code == 410, r.text


def test_erasing_a_record_erases_only_its_subject(
    client: TestClient, auth: Auth, topic: TopicReader
) -> None:
    case_id, report_id = _tracing_case(client, auth, _canary())
    r = _erase(client, auth, report_id, reason="retention-expired")
    assert r.status_code == 200, r.text
    assert (r.json()["case_subject"], r.json()["keys_destroyed"]) == (False, 1)
    ana = auth("ana") | payloads.READ
    assert client.get(f"/cases/{case_id}", headers=ana).status_code == 200
    assert (
        client.get(f"/cases/{case_id}/missing-person-reports/{report_id}", headers=ana).status_code
        == 410
    )
    erased = json.loads(topic.wait_for(case_id, ERASED).value)
    assert (erased["case_subject"], erased["record_ids"]) == (False, [report_id])


def test_erasing_again_destroys_nothing_more(client: TestClient, auth: Auth) -> None:
    case_id, _ = _tracing_case(client, auth, _canary())
    assert _erase(client, auth, case_id).json()["keys_destroyed"] == 3
    again = _erase(client, auth, case_id)
    assert again.status_code == 200 and again.json()["keys_destroyed"] == 0


@pytest.mark.parametrize("user", ["ana", "sara", "audrey"])
def test_only_an_administrator_may_erase(client: TestClient, auth: Auth, user: str) -> None:
    case_id, _ = _tracing_case(client, auth, _canary())
    r = _erase(client, auth, case_id, user=user)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/cases/{case_id}", headers=auth("ana") | payloads.READ).status_code == 200


def test_an_unknown_subject_or_reason_is_a_problem(client: TestClient, auth: Auth) -> None:
    r = _erase(client, auth, str(uuid.uuid4()))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    case_id, _ = _tracing_case(client, auth, _canary())
    bad = _erase(client, auth, case_id, reason="because")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert (
        client.post(
            f"/subjects/{case_id}/erasure",
            json={"reason": "data-subject-request", "case_id": case_id},
            headers=auth("adam"),
        ).status_code
        == 422
    )


def test_the_erasure_is_audited_and_the_chain_stays_verifiable(
    client: TestClient, auth: Auth
) -> None:
    case_id, _ = _tracing_case(client, auth, _canary())
    assert _erase(client, auth, case_id, user="ana").status_code == 403
    assert _erase(client, auth, case_id).status_code == 200
    r = client.get(
        "/audit/entries",
        params={"limit": 1000, "object_type": "case", "object_id": case_id},
        headers=auth("audrey"),
    )
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    erasures = [
        (e["action"], e["purpose"], e["outcome"], e["roles"])
        for e in entries
        if e["action"] == "subject.erase"
    ]
    assert erasures == [("subject.erase", "data-subject-request", "success", ["admin"])]
    verdict = client.get("/audit/verify", headers=auth("audrey"))
    assert verdict.status_code == 200 and verdict.json()["ok"] is True, verdict.text
