"""The auditor API: read-only routes for role `auditor` over this service's audit log.

Mount it with the other routers (authentication is attached there):

    build_service_app(settings, routers=[..., audit_router()])

The routes read `request.app.state.engine` and derive the checkpoint key from
`request.app.state.settings.master_key`. They return audit entries only (object references and
ids), never case contents.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
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

    @router.get("/export", summary="Export matching entries as JSON lines or CSV")
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

    return router


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
