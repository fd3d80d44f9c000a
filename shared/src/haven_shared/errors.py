"""RFC 9457 problem+json for every error of every service, mapped in one place.

Error bodies never echo submitted values: validation errors name the failing field and the rule,
not what was sent, so personal data cannot leak through an error message or a log of it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("haven.errors")


class HavenError(Exception):
    """A domain or platform error that maps to one HTTP status and a problem type."""

    status: int = 500
    title: str = "Internal error"
    type_slug: str = "internal"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions
        self.headers: dict[str, str] = {}


class Unauthorized(HavenError):
    status, title, type_slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers = {"WWW-Authenticate": 'Bearer realm="haven"'}


class Forbidden(HavenError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(HavenError):
    status, title, type_slug = 404, "Not found", "not-found"


class Conflict(HavenError):
    status, title, type_slug = 409, "Conflict", "conflict"


class InvalidInput(HavenError):
    status, title, type_slug = 422, "Invalid input", "invalid-input"


class ServiceUnavailable(HavenError):
    status, title, type_slug = 503, "Service unavailable", "unavailable"


def problem(
    status: int,
    title: str,
    detail: str,
    type_slug: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"https://haven.example.org/problems/{type_slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append(
            {
                "field": ".".join(loc),
                "code": str(err.get("type", "invalid")),
                # pydantic's messages describe the rule ("String should have at most 200
                # characters"); inputs are in err["input"], which is deliberately dropped.
                "message": str(err.get("msg", "invalid value")),
            }
        )
    return out


_STATUS_SLUGS = {
    400: ("Bad request", "bad-request"),
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    409: ("Conflict", "conflict"),
    413: ("Request body too large", "too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    422: ("Invalid input", "invalid-input"),
    503: ("Service unavailable", "unavailable"),
}


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(HavenError)
    async def _haven(request: Request, exc: HavenError) -> JSONResponse:
        return problem(
            exc.status, exc.title, exc.detail, exc.type_slug, request.url.path, exc.headers,
            **exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem(
            422, "Invalid input", f"Invalid fields: {fields}", "invalid-input", request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title, slug = _STATUS_SLUGS.get(exc.status_code, ("Error", "error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem(exc.status_code, title, detail, slug, request.url.path, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log the class only: an exception's message may carry personal data.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem(500, "Internal error", "An unexpected error occurred.", "internal",
                       request.url.path)
