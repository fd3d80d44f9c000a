"""Intake's domain errors → problem+json, in this one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from haven_shared.crypto import SubjectErased
from haven_shared.errors import problem
from intake.domain import errors as e

_STATUS: list[tuple[type[Exception], int, str, str]] = [
    (e.CaseNotFound, 404, "Not found", "not-found"),
    (e.RecordNotFound, 404, "Not found", "not-found"),
    (e.NotPermitted, 403, "Forbidden", "forbidden"),
    (e.InvalidTransition, 409, "Conflict", "conflict"),
    (SubjectErased, 410, "Gone", "erased"),
]


def install_domain_errors(app: FastAPI) -> None:
    """Register the mapping of intake's domain errors on `app`."""

    @app.exception_handler(e.InvalidField)
    async def _invalid(request: Request, exc: e.InvalidField) -> JSONResponse:
        field = f"body.{exc.field}"
        return problem(422, "Invalid input", f"Invalid fields: {field}", "invalid-input",
                       request.url.path,
                       errors=[{"field": field, "code": exc.code, "message": exc.message}])

    @app.exception_handler(e.IdempotencyConflict)
    async def _idempotency(request: Request, exc: e.IdempotencyConflict) -> JSONResponse:
        return problem(409, "Conflict", str(exc), "idempotency-key-reused", request.url.path,
                       errors=[{"field": "header.Idempotency-Key", "code": "reused",
                                "message": str(exc)}])

    for exc_type, status, title, slug in _STATUS:
        def handler(request: Request, exc: Exception, status: int = status, title: str = title,
                    slug: str = slug) -> JSONResponse:
            return problem(status, title, str(exc), slug, request.url.path)

        app.add_exception_handler(exc_type, handler)
