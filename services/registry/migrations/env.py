"""Alembic environment of the registry database.

The connection comes from `config.attributes["connection"]` (start-up, tests; the caller holds
the migration lock) or else from the registry settings (REGISTRY_DATABASE_URL), in which case
this module takes the same PostgreSQL advisory lock itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

from haven_shared.db import make_engine
from registry.adapters.schema import MIGRATION_LOCK, registry_tables

target_metadata = SQLModel.metadata
_REGISTRY = {t.name for t in registry_tables()}


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # SQLModel.metadata holds every table imported in this process; only the registry's count.
    return type_ != "table" or name in _REGISTRY


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from registry.config import Settings

    engine = make_engine(Settings().database_url)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("select pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        try:
            _run(conn)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
    engine.dispose()
