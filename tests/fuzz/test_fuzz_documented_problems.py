"""Regression of the fuzz run's findings: the OpenAPI documents declare what the services answer.

Schemathesis' conformance checks found every error status (400, 401, 403, 404, 409, 413, 503)
undocumented, 422 documented as application/json while the services answer problem+json, the
audit export documented as JSON while it streams JSON lines or CSV, and `PUT
/directory/organisations/{id}` answering an undocumented 201. Checked here without a server.
"""

from __future__ import annotations

from typing import Any

import pytest

PROBLEM = "application/problem+json"


def _document(service: str) -> dict[str, Any]:
    import importlib

    bootstrap = importlib.import_module(f"{service}.bootstrap").bootstrap
    settings = importlib.import_module(f"{service}.config").Settings
    app = bootstrap(settings(environment="test", database_url="sqlite://"))
    doc: dict[str, Any] = app.openapi()
    return doc


@pytest.mark.parametrize("service", ["intake", "referral", "registry"])
def test_every_operation_documents_its_problem_answers(service: str) -> None:
    doc = _document(service)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            responses = op["responses"]
            for status in ("400", "401", "403", "404", "409", "413", "422", "503"):
                assert status in responses, (method, path, status)
                assert list(responses[status]["content"]) == [PROBLEM], (method, path, status)
    assert doc["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]


@pytest.mark.parametrize("service", ["intake", "referral", "registry"])
def test_the_audit_export_documents_its_line_formats(service: str) -> None:
    ok = _document(service)["paths"]["/audit/export"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/x-ndjson", "text/csv"}


def test_adding_an_organisation_by_put_documents_201() -> None:
    put = _document("registry")["paths"]["/directory/organisations/{organisation_id}"]["put"]
    assert {"200", "201"} <= set(put["responses"])
