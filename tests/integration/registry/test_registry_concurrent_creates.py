"""Creating the same directory object twice at once on PostgreSQL: the request that loses the race
gets 409 problem+json (never 500) and changes nothing."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from test_registry_directory_api import new_organisation, new_service

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]
ORG = {"name": "Harbour House", "code": "harbour-house"}


def _engine(client: TestClient) -> sa.Engine:
    engine: sa.Engine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


def _waiting_on_a_lock(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "select count(*) from pg_stat_activity where datname = current_database() "
                    "and wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


@contextmanager
def _racing(
    client: TestClient, insert: str, params: dict[str, Any], request: Callable[[], httpx.Response]
) -> Iterator[list[httpx.Response]]:
    """Run `request` while another transaction has inserted the same key and not committed:
    the request finds nothing, inserts, waits on the other's row, and is refused once the
    other commits. Yields the (one) response after that."""
    engine = _engine(client)
    answers: list[httpx.Response] = []
    with engine.connect() as other:
        other.execute(sa.text(insert), params)
        worker = threading.Thread(target=lambda: answers.append(request()))
        worker.start()
        deadline = time.monotonic() + 20
        while _waiting_on_a_lock(engine) == 0:
            assert time.monotonic() < deadline, "the request never waited on the other insert"
            time.sleep(0.05)
        other.commit()
    worker.join(30)
    yield answers


def _conflict(r: httpx.Response) -> None:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "another request" in r.json()["detail"]


def test_an_organisation_put_that_loses_a_creation_race_is_409(
    empty_registry: TestClient, auth: Auth
) -> None:
    org_id = str(uuid.uuid4())
    insert = (
        "insert into directory_organisation (id, name, description, code, website, email)"
        " values (:id, 'First writer', '', '', '', '')"
    )

    def put() -> httpx.Response:
        return empty_registry.put(
            f"/directory/organisations/{org_id}", json=ORG, headers=auth("dora")
        )

    with _racing(empty_registry, insert, {"id": org_id}, put) as [answer]:
        _conflict(answer)
    kept = empty_registry.get(f"/directory/organisations/{org_id}", headers=auth("ana")).json()
    assert kept["name"] == "First writer"
    # Now that it exists, the same PUT is an ordinary update.
    r = empty_registry.put(f"/directory/organisations/{org_id}", json=ORG, headers=auth("dora"))
    assert r.status_code == 200 and r.json()["name"] == ORG["name"]


def test_many_simultaneous_puts_of_one_new_organisation_create_it_once_without_a_500(
    empty_registry: TestClient, auth: Auth
) -> None:
    headers = auth("dora")
    for _ in range(4):
        org_id = str(uuid.uuid4())
        start = threading.Barrier(6)

        def put(n: int, org_id: str = org_id, start: threading.Barrier = start) -> httpx.Response:
            start.wait()
            return empty_registry.put(
                f"/directory/organisations/{org_id}",
                json={**ORG, "name": f"Writer {n}"},
                headers=headers,
            )

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(put, range(6)))
        statuses = sorted(r.status_code for r in answers)
        assert set(statuses) <= {200, 201, 409}, statuses
        assert statuses.count(201) == 1, statuses
        for r in answers:
            if r.status_code == 409:
                _conflict(r)


def test_an_hsds_import_that_loses_a_creation_race_is_409_and_imports_nothing(
    registry: TestClient, empty_registry: TestClient, auth: Auth
) -> None:
    org = new_organisation(registry, auth)
    new_service(registry, auth, org)
    page = registry.get(
        "/directory/hsds/services", headers=auth("ana"), params={"organisation_id": org}
    ).json()
    [service_id] = [s["id"] for s in page["contents"]]
    raw = json.dumps(page).encode()
    insert = (
        "insert into directory_organisation (id, name, description, code, website, email)"
        " values (:id, 'First writer', '', '', '', '')"
    )

    def importing() -> httpx.Response:
        return empty_registry.post("/directory/hsds/import", headers=auth("dora"), content=raw)

    with _racing(empty_registry, insert, {"id": org}, importing) as [answer]:
        _conflict(answer)
    r = empty_registry.get(f"/directory/services/{service_id}", headers=auth("ana"))
    assert r.status_code == 404, "nothing of the refused import was kept"
    again = empty_registry.post("/directory/hsds/import", headers=auth("dora"), content=raw)
    assert again.status_code == 200, again.text
    assert again.json()["created"] == 1
