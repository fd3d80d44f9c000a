"""The registry's migrations also run on SQLite (the embedded default) and agree with the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from haven_shared.db import make_engine
from registry.adapters.schema import alembic_config, create_schema, registry_tables


def test_migrating_an_empty_sqlite_database_twice_creates_every_table_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    create_schema(engine)
    create_schema(engine)
    assert {t.name for t in registry_tables()} <= set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        command.check(alembic_config(conn))
    engine.dispose()
