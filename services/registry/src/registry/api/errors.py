"""The registry's domain and use-case errors as problem+json, mapped in this one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from haven_shared.errors import problem
from registry.adapters.hsds_import import HsdsImportError
from registry.domain.directory import DirectoryError, ServiceWithdrawn
from registry.domain.family_notification import NotificationError, NotificationStepRefused
from registry.domain.match_review import (
    AlreadyDecided,
    OtherKindOfReviewNeeded,
    ReviewError,
    ReviewNotPermitted,
    SameReviewerTwice,
)
from registry.service_layer.errors import (
    AlreadyExists,
    NotFoundError,
    NotYourService,
    OrganisationMismatch,
    UseCaseError,
)

# Most specific first: the first class the error is an instance of decides.
_STATUS: list[tuple[type[Exception], int, str, str]] = [
    (ServiceWithdrawn, 409, "Conflict", "conflict"),
    (NotificationStepRefused, 409, "Conflict", "conflict"),
    (NotificationError, 422, "Invalid input", "invalid-input"),
    (ReviewNotPermitted, 403, "Forbidden", "forbidden"),
    (AlreadyDecided, 409, "Conflict", "conflict"),
    (SameReviewerTwice, 409, "Conflict", "four-eyes"),
    (OtherKindOfReviewNeeded, 409, "Conflict", "four-eyes"),
    (ReviewError, 422, "Invalid input", "invalid-input"),
    (DirectoryError, 422, "Invalid input", "invalid-input"),
    (NotFoundError, 404, "Not found", "not-found"),
    (AlreadyExists, 409, "Conflict", "conflict"),
    (NotYourService, 403, "Forbidden", "forbidden"),
    (OrganisationMismatch, 409, "Conflict", "conflict"),
    (UseCaseError, 400, "Bad request", "bad-request"),
]


def _describe(exc: HsdsImportError) -> str:
    first = exc.problems[0]
    where = []
    if first.line is not None:
        where.append(f"line {first.line}")
    if first.record is not None:
        where.append(f"record {first.record}")
    if first.field:
        where.append(f"field {first.field}")
    more = f" ({len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
    prefix = ", ".join(where)
    return (f"{prefix}: {first.message}" if prefix else first.message) + more


def install_registry_errors(app: FastAPI) -> None:
    """Register the handlers of the registry's own errors."""

    @app.exception_handler(HsdsImportError)
    async def _hsds(request: Request, exc: HsdsImportError) -> JSONResponse:
        return problem(
            422, "Malformed HSDS file",
            f"Nothing was imported. {_describe(exc)}", "malformed-hsds", request.url.path,
            errors=[{"record": p.record, "line": p.line, "field": p.field,
                     "message": p.message} for p in exc.problems],
        )

    async def _known(request: Request, exc: Exception) -> JSONResponse:
        for cls, status, title, slug in _STATUS:
            if isinstance(exc, cls):
                return problem(status, title, str(exc), slug, request.url.path)
        raise exc  # pragma: no cover - only registered for the classes above

    app.add_exception_handler(DirectoryError, _known)
    app.add_exception_handler(ReviewError, _known)
    app.add_exception_handler(NotificationError, _known)
    app.add_exception_handler(UseCaseError, _known)
