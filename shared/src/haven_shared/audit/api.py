"""The auditor API: read-only routes for role `auditor` over this service's audit log.

Mount it with the other routers (authentication is attached there):

    build_service_app(settings, routers=[..., audit_router()])

The routes read `request.app.state.engine` and derive the checkpoint key from
`request.app.state.settings.master_key`. They return audit entries only (object references and
ids), never case contents; `/audit/traces/{trace_id}` adds the service's spans of that trace,
read from its local span file (`telemetry_exporter="file"`; `app.state.span_file` overrides the
path), whose attributes passed the telemetry allow-list.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from haven_shared.audit.chain import checkpoint_key
from haven_shared.audit.model import as_utc
from haven_shared.audit.query import (
    EntryFilter,
    find_entries,
    iter_matching,
    to_csv_lines,
    to_json_line,
)
from haven_shared.audit.traces import entry_item, read_spans
from haven_shared.audit.verify import verify_chain
from haven_shared.auth import Principal, require_roles
from haven_shared.errors import InvalidInput

Auditor = Annotated[Principal, Depends(require_roles("auditor"))]
_Id = Annotated[str | None, Query(max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")]
_TraceId = Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")]


def _filter(
    object_type: _Id = None, object_id: _Id = None, actor: _Id = None,
    organisation: _Id = None, action: _Id = None, trace_id: _TraceId = None,
    since: datetime | None = None, until: datetime | None = None,
) -> EntryFilter:
    """The query parameters every listing and export accepts."""
    if object_id is not None and object_type is None:
        raise InvalidInput("object_id needs object_type.")
    since_utc = as_utc(since) if since else None
    until_utc = as_utc(until) if until else None
    if since_utc and until_utc and since_utc >= until_utc:
        raise InvalidInput("since must be before until.")
    return EntryFilter(object_type=object_type, object_id=object_id, actor=actor,
                       organisation=organisation, action=action, trace_id=trace_id,
                       since=since_utc, until=until_utc)


Filter = Annotated[EntryFilter, Depends(_filter)]


def _engine(request: Request) -> sa.Engine:
    engine: sa.Engine = request.app.state.engine
    return engine


def audit_router(prefix: str = "/audit") -> APIRouter:
    """Read-only auditor routes: entries, verification, exports (role `auditor` only)."""
    router = APIRouter(prefix=prefix, tags=["audit"])

    @router.get("/entries", summary="Audit entries matching the filters, oldest first")
    def list_entries(
        request: Request, _: Auditor, flt: Filter,
        after_seq: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        with Session(_engine(request)) as session:
            entries = find_entries(session, flt, after_seq=after_seq, limit=limit)
        return {
            "entries": [e.public() for e in entries],
            "next_after_seq": entries[-1].seq if len(entries) == limit else None,
        }

    @router.get("/verify", summary="Verify the hash chain and its signed checkpoints")
    def verify(request: Request, _: Auditor) -> dict[str, Any]:
        key = checkpoint_key(request.app.state.settings.master_key.get_secret_value())
        with Session(_engine(request)) as session:
            return verify_chain(session, key).as_json()

    @router.get("/export", summary="Export matching entries as JSON lines or CSV",
                response_class=StreamingResponse,
                responses={200: {"description": "The entries, one per line", "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}}}}})
    def export(
        request: Request, _: Auditor, flt: Filter,
        fmt: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
    ) -> StreamingResponse:
        engine = _engine(request)

        def entries() -> Iterator[Any]:
            with Session(engine) as session:
                yield from iter_matching(session, flt)

        if fmt == "csv":
            return StreamingResponse(to_csv_lines(entries()), media_type="text/csv",
                                     headers=_attachment("audit.csv"))
        return StreamingResponse((to_json_line(e) for e in entries()),
                                 media_type="application/x-ndjson",
                                 headers=_attachment("audit.jsonl"))

    @router.get("/traces/{trace_id}",
                summary="This service's spans and audit entries of one trace, in time order")
    def trace_part(
        request: Request, _: Auditor,
        trace_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")],
    ) -> dict[str, Any]:
        service = request.app.state.settings.service_name
        with Session(_engine(request)) as session:
            entries = list(iter_matching(session, EntryFilter(trace_id=trace_id)))
        span_file = _span_file(request)
        spans = read_spans(span_file, trace_id, service) if span_file else []
        return {
            "trace_id": trace_id, "service": service,
            "spans_recorded": span_file is not None,
            "spans": sorted(spans, key=lambda s: s["at"]),
            "entries": [entry_item(e) for e in entries],
        }

    return router


def _span_file(request: Request) -> Path | None:
    """Where this service's spans are written locally (after flushing the ones pending), or
    None when they are not kept here (exported over OTLP, or not at all)."""
    from opentelemetry import trace

    for provider in (getattr(request.app.state, "tracer_provider", None),
                     trace.get_tracer_provider()):
        flush = getattr(provider, "force_flush", None)
        if flush is not None:
            flush(5000)
    explicit = getattr(request.app.state, "span_file", None)
    if explicit:
        return Path(explicit)
    settings = request.app.state.settings
    if settings.telemetry_exporter != "file":
        return None
    return Path(settings.telemetry_file or f".run/traces/{settings.service_name}.jsonl")


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
