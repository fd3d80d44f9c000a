"""The FastAPI application frame every Haven service is built on.

`create_app` wires problem+json errors, a request-size limit, liveness and readiness, and the
authenticated `/whoami` and `/admin/status`. Service routers are mounted with authentication
attached, so every route a service adds is authenticated by default and declares its roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from haven_shared.auth import (
    CurrentPrincipal,
    Principal,
    TokenVerifier,
    authenticate,
    require_roles,
)
from haven_shared.errors import install_problem_handlers, problem
from haven_shared.health import ReadinessProbe
from haven_shared.settings import ServiceSettings


class BodySizeLimit:
    """Pure ASGI middleware: refuse request bodies over `max_bytes` with 413 problem+json."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413, "Request body too large", f"The body exceeds {self.max_bytes} bytes.",
            "too-large", scope.get("path"),
        )
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}
_PROBLEMS = {
    400: "Bad request (e.g. a read without `X-Purpose-Of-Use`)",
    401: "No valid bearer token",
    403: "The caller's role does not allow this",
    404: "No such object, or not one the caller may see",
    409: "The object's state does not allow this, or an `Idempotency-Key` reused",
    413: "Request body too large",
    422: "Invalid input (the fields at fault are listed)",
    503: "A dependency (database, broker, identity provider) is unavailable",
}
#: Every route may answer these, always as problem+json (documented so clients and contract
#: tests know them; FastAPI's own 422 schema is replaced by the problem shape it really has).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}
    for status, text in _PROBLEMS.items()
}


def _with_problem_schema(app: FastAPI) -> None:
    """Add the `Problem` schema the documented error answers refer to."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            _PROBLEM_SCHEMA)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _platform_router(service: str) -> APIRouter:
    router = APIRouter(tags=["platform"])

    @router.get("/healthz", summary="Liveness: the process is running")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/readyz", summary="Readiness: database, Kafka and Keycloak answer")
    def readyz(request: Request) -> Any:
        probe: ReadinessProbe = request.app.state.readiness
        checks = probe.run()
        ready = all(v == "ok" for v in checks.values())
        if ready:
            return {"status": "ready", "service": service, "checks": checks}
        return problem(
            503, "Service unavailable", "A dependency of this service is unavailable.",
            "unavailable", "/readyz", service=service, checks=checks,
        )

    @router.get("/whoami", summary="The caller's identity as this service sees it")
    def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {
            "username": principal.username,
            "org": principal.org,
            "roles": sorted(principal.roles),
            "client_id": principal.client_id,
            "service": service,
        }

    @router.get("/admin/status", summary="Service status for administrators")
    def admin_status(
        request: Request, _: Annotated[Principal, Depends(require_roles("admin"))]
    ) -> dict[str, Any]:
        return {"service": service, "checks": request.app.state.readiness.run()}

    return router


def create_app(
    settings: ServiceSettings,
    readiness: ReadinessProbe,
    routers: Sequence[APIRouter] = (),
    title: str | None = None,
    description: str = "",
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    """A service application: platform routes plus `routers`, each mounted authenticated."""
    app = FastAPI(
        title=title or f"Haven {settings.service_name}",
        description=description,
        version="0.1.0",
        responses=PROBLEM_RESPONSES,
    )
    app.state.settings = settings
    app.state.token_verifier = verifier or TokenVerifier(settings)
    app.state.readiness = readiness
    _with_problem_schema(app)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(_platform_router(settings.service_name))
    for router in routers:
        app.include_router(router, dependencies=[Depends(authenticate)])
    return app



def build_service_app(
    settings: ServiceSettings,
    routers: Sequence[APIRouter] = (),
    description: str = "",
    audit: bool = False,
) -> FastAPI:
    """The usual wiring of a service: its engine, token verifier, readiness checks, tracing and
    app. Server spans are always recorded (so a request's trace id reaches the outbox and Kafka);
    they are exported only when `telemetry_exporter` says where. `make_tracing_global` is for the
    process entry point, not for apps built side by side in tests.

    With `audit=True` (a service whose schema holds the audit tables) the auditor API is mounted
    under `/audit` and the service's `AuditLog` is `app.state.audit`."""
    from haven_shared.db import make_engine
    from haven_shared.telemetry import setup_telemetry

    engine = make_engine(settings.database_url)
    verifier = TokenVerifier(settings)
    readiness = ReadinessProbe.standard(engine, settings.bootstrap_servers, verifier)
    if audit:
        from haven_shared.audit import audit_router

        routers = [*routers, audit_router()]
    app = create_app(settings, readiness, routers, description=description, verifier=verifier)
    app.state.engine = engine
    if audit:
        from haven_shared.audit import AuditLog

        app.state.audit = AuditLog.from_settings(settings)
    exporting = settings.telemetry_exporter != "none"
    app.state.tracer_provider = setup_telemetry(
        settings.service_name,
        settings.telemetry_exporter,
        app=app,
        # Statement spans only where they go somewhere (they cost a little on every query).
        engines=[engine] if exporting else (),
        set_global=False,
        file_path=settings.telemetry_file or f".run/traces/{settings.service_name}.jsonl",
    )
    return app


def make_tracing_global(app: FastAPI) -> FastAPI:
    """Make the app's tracer provider the process's (relay and consumer spans use it)."""
    from opentelemetry import trace

    trace.set_tracer_provider(app.state.tracer_provider)
    return app
