"""Reads of a case must name their purpose of use; a missing one is a 400 problem."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from haven_shared.audit import PURPOSE_HEADER, PurposeOfUse
from haven_shared.errors import install_problem_handlers


def _client() -> TestClient:
    router = APIRouter()

    @router.get("/cases/{case_id}")
    def read_case(case_id: str, purpose: PurposeOfUse) -> dict[str, str]:
        return {"case_id": case_id, "purpose": purpose}

    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    return TestClient(app)


def test_a_read_with_a_purpose_passes_it_on() -> None:
    r = _client().get("/cases/c1", headers={PURPOSE_HEADER: "family-tracing"})
    assert r.status_code == 200 and r.json()["purpose"] == "family-tracing"


def test_a_read_without_a_purpose_is_a_400_problem() -> None:
    r = _client().get("/cases/c1")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert PURPOSE_HEADER in r.json()["detail"]


def test_a_free_text_purpose_is_refused_without_echoing_it() -> None:
    r = _client().get("/cases/c1", headers={PURPOSE_HEADER: "looking for Maria Lopez"})
    assert r.status_code == 400 and "Maria" not in r.text
