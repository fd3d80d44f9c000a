"""Bringing a service's database to its newest Alembic revision at start-up.

Every instance of a service runs this when it starts. On PostgreSQL the upgrade runs under a
transaction-scoped advisory lock, so instances that start together migrate once: the others wait
and find nothing left to do. A database that `create_all` made before the service had
migrations is completed (missing tables only, as the models stand) and stamped as migrated.

    upgrade_to_head(engine, MIGRATIONS, lock_key=7_301_001,
                    marker_table="intake_case", tables=intake_tables())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import SQLModel


def alembic_config(migrations: Path, connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for a service's migrations folder, optionally bound to an open
    connection (the folder's `env.py` then runs on it)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: sa.Engine, migrations: Path, *, lock_key: int, marker_table: str,
                    tables: Sequence[sa.Table]) -> None:
    """Migrate to the newest revision; `marker_table` tells a pre-migration database apart
    (it exists, `alembic_version` does not), `tables` are what `create_all` would have made."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Released by this block's commit (or rollback).
            conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": lock_key})
        inspector = sa.inspect(conn)
        if inspector.has_table(marker_table) and not inspector.has_table("alembic_version"):
            SQLModel.metadata.create_all(conn, tables=list(tables))
            command.stamp(alembic_config(migrations, conn), "head")
        command.upgrade(alembic_config(migrations, conn), "head")


def run_env(tables: Sequence[sa.Table], lock_key: int, database_url: Callable[[], str]) -> None:
    """The body of a service's `migrations/env.py`.

    The connection comes from `config.attributes["connection"]` (start-up and tests, where
    `upgrade_to_head` holds the lock), or else from `database_url()` (the `alembic` command
    line), in which case the same PostgreSQL advisory lock is taken here. Only `tables` count
    for autogenerate: `SQLModel.metadata` holds every table imported in the process.
    """
    from alembic import context

    from haven_shared.db import make_engine

    names = {t.name for t in tables}

    def include(obj: object, name: str | None, type_: str, reflected: bool,
                compare_to: object) -> bool:
        return type_ != "table" or name in names

    def run(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=SQLModel.metadata,
                          include_object=include, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(database_url())
    with engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(sa.text("select pg_advisory_lock(:k)"), {"k": lock_key})
        try:
            run(conn)
            conn.commit()
        finally:
            if postgres:
                conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": lock_key})
    engine.dispose()
