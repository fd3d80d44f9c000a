"""The ceiling intake is measured against: FastAPI + asyncpg inserting a case-like row.

    RAW_DATABASE_URL=postgresql://... uvicorn --factory raw_insert_app:create_app

No authentication, no audit, no encryption, no outbox: one INSERT per request into a table
shaped like `intake_case` (the same column types, a JSON blob of similar size in place of the
sealed person), and the row echoed back as JSON. It answers what this machine, this PostgreSQL
and this HTTP stack can do at best, so that intake's figure has a yardstick.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response

DDL = """
CREATE TABLE IF NOT EXISTS raw_case (
    id uuid PRIMARY KEY,
    organisation_id varchar(100) NOT NULL,
    kind varchar(40) NOT NULL,
    status varchar(40) NOT NULL,
    risk_level varchar(20) NOT NULL,
    is_minor boolean NOT NULL,
    subject_key_id varchar(64) NOT NULL,
    person_sealed json NOT NULL,
    assignees json NOT NULL,
    opened_by varchar(100) NOT NULL,
    opened_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL
);
CREATE INDEX IF NOT EXISTS raw_case_org ON raw_case (organisation_id);
"""
INSERT = """
INSERT INTO raw_case (id, organisation_id, kind, status, risk_level, is_minor, subject_key_id,
                      person_sealed, assignees, opened_by, opened_at, updated_at, version)
VALUES ($1, $2, $3, 'open', $4, false, $5, $6, $7, 'bench', $8, $8, 1)
"""


def create_app() -> FastAPI:
    """The raw insert service on the database in RAW_DATABASE_URL."""
    dsn = os.environ["RAW_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=4, max_size=20)
        async with app.state.pool.acquire() as conn:
            await conn.execute(DDL)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/cases", status_code=201)
    async def open_case(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        case_id, now = uuid.uuid4(), datetime.now(UTC)
        # About the size of intake's sealed person (ciphertext, nonce, key id in base64).
        person = json.dumps(
            {
                "ct": (json.dumps(body.get("person", {})) * 2)[:160],
                "nonce": "AAAAAAAAAAAAAAAA",
                "kid": case_id.hex,
            }
        )
        async with request.app.state.pool.acquire() as conn:
            await conn.execute(
                INSERT,
                case_id,
                "org-bench",
                body["kind"],
                body.get("risk_level", "medium"),
                case_id.hex,
                person,
                '["bench"]',
                now,
            )
        out = {
            "id": str(case_id),
            "organisation_id": "org-bench",
            "kind": body["kind"],
            "status": "open",
            "risk_level": body.get("risk_level", "medium"),
            "opened_at": now.isoformat(),
        }
        return Response(
            json.dumps(out),
            status_code=201,
            media_type="application/json",
            headers={"Location": f"/cases/{case_id}"},
        )

    return app
