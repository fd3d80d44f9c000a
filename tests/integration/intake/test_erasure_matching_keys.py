"""The matching part of tracing events is sealed with the subject's matching key, which only
intake holds: the registry fetches it with a signed request, and after an erasure nobody can —
not even a holder of the secret intake and registry share."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import payloads
import pytest
from fastapi.testclient import TestClient
from intake_topic import TopicReader

from haven_shared.crypto import MATCHING_ALG, SubjectErased
from haven_shared.events.model import SealedPersonalData
from intake.api.matching_keys import authorization
from registry.adapters.intake_matching import IntakeMatchingKeys, MatchingOpener

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]
SECRET = "development-only-matching-key-change-me"  # intake's default in these tests


def _recorded(client: TestClient, auth: Auth, topic: TopicReader) -> tuple[str, str, dict]:  # type: ignore[type-arg]
    name = "K" + uuid.uuid4().hex[:10]
    ana = auth("ana")
    case_id = client.post("/cases", json={"kind": "missing-person"}, headers=ana).json()["id"]
    r = client.post(
        f"/cases/{case_id}/missing-person-reports",
        json=payloads.missing_person(names=[{"text": name}]),
        headers=ana,
    )
    assert r.status_code == 201, r.text
    body = json.loads(topic.wait_for(case_id, "haven.intake.missing-person.recorded.v1").value)
    return case_id, name, body


def test_the_shared_secret_alone_cannot_open_the_matching_part(
    client: TestClient, auth: Auth, topic: TopicReader
) -> None:
    _, name, body = _recorded(client, auth, topic)
    matching = SealedPersonalData.model_validate(body["matching"])
    assert matching.alg == MATCHING_ALG and matching.key_id == body["subject"]["key_id"]
    with pytest.raises(SubjectErased):
        MatchingOpener(SECRET).open(matching)
    fields = MatchingOpener(SECRET, IntakeMatchingKeys("", SECRET, client=client)).open(matching)
    assert fields["names"] == [name]


def test_after_erasure_the_matching_key_is_gone_for_everyone(
    client: TestClient, auth: Auth, topic: TopicReader
) -> None:
    case_id, _, body = _recorded(client, auth, topic)
    matching = SealedPersonalData.model_validate(body["matching"])
    opener = MatchingOpener(SECRET, IntakeMatchingKeys("", SECRET, client=client))
    assert opener.open(matching)
    r = client.post(
        f"/subjects/{case_id}/erasure",
        json={"reason": "data-subject-request"},
        headers=auth("adam"),
    )
    assert r.status_code == 200, r.text
    gone = client.get(
        f"/internal/matching-keys/{matching.key_id}",
        headers={"Authorization": authorization(SECRET.encode(), matching.key_id)},
    )
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("application/problem+json")
    with pytest.raises(SubjectErased):
        opener.open(matching)


def test_a_key_request_needs_a_fresh_valid_signature_and_a_record_subject(
    client: TestClient, auth: Auth, topic: TopicReader
) -> None:
    case_id, _, body = _recorded(client, auth, topic)
    key_id = body["subject"]["key_id"]
    path = f"/internal/matching-keys/{key_id}"

    def status(header: str | None) -> int:
        return client.get(path, headers={"Authorization": header} if header else {}).status_code

    assert status(authorization(SECRET.encode(), key_id)) == 200
    assert status(None) == 401
    assert status(auth("adam")["Authorization"]) == 401
    assert status(authorization(b"another-secret", key_id)) == 401
    assert status(authorization(SECRET.encode(), "sk-other")) == 401
    assert status(authorization(SECRET.encode(), key_id, int(time.time()) - 600)) == 401
    # The case person's key is no record subject's: never handed out.
    case_key = client.get(f"/cases/{case_id}", headers=auth("ana") | payloads.READ)
    assert case_key.status_code == 200
    unknown = f"sk-{uuid.uuid4().hex}"
    assert (
        client.get(
            f"/internal/matching-keys/{unknown}",
            headers={"Authorization": authorization(SECRET.encode(), unknown)},
        ).status_code
        == 404
    )


def test_every_key_hand_out_is_audited(client: TestClient, auth: Auth, topic: TopicReader) -> None:
    case_id, _, body = _recorded(client, auth, topic)
    key_id = body["subject"]["key_id"]
    assert (
        client.get(
            f"/internal/matching-keys/{key_id}",
            headers={"Authorization": authorization(SECRET.encode(), key_id)},
        ).status_code
        == 200
    )
    r = client.get(
        "/audit/entries",
        params={"object_type": "case", "object_id": case_id, "action": "matching-key.read"},
        headers=auth("audrey"),
    )
    assert r.status_code == 200, r.text
    assert [(e["actor"], e["purpose"], e["outcome"]) for e in r.json()["entries"]] == [
        ("registry", "matching", "success")
    ]


@pytest.mark.parametrize(
    "user", ["ana", "sara", "chris", "tom", "fiona", "paula", "dora", "audrey", "adam"]
)
def test_no_user_token_of_any_role_fetches_a_matching_key(
    client: TestClient, auth: Auth, topic: TopicReader, user: str
) -> None:
    _, _, body = _recorded(client, auth, topic)
    r = client.get(f"/internal/matching-keys/{body['subject']['key_id']}", headers=auth(user))
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "key" not in r.json()
