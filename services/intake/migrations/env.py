"""Alembic environment of the intake database.

The connection comes from `config.attributes["connection"]` (start-up, tests) or else from the
intake settings (INTAKE_DATABASE_URL). On PostgreSQL an advisory lock serialises instances that
start together, so only one of them migrates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

from haven_shared.db import make_engine
from intake.adapters.schema import intake_tables

MIGRATION_LOCK = 7_301_001  # any constant shared by all intake instances

target_metadata = SQLModel.metadata
_INTAKE = {t.name for t in intake_tables()}


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
             ) -> bool:
    # SQLModel.metadata also holds other tables imported in this process; only ours count.
    return type_ != "table" or name in _INTAKE


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      include_object=_include, render_as_batch=True, compare_type=True)
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(sa.text("select pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if postgres:
            connection.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from intake.config import Settings

    engine = make_engine(Settings().database_url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()
