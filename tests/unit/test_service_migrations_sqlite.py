"""Each service's migrations also run on SQLite (the embedded default), twice without harm, and
agree with its table models."""

from __future__ import annotations

import importlib

import pytest
import sqlalchemy as sa
from alembic import command

from haven_shared.db import make_engine


@pytest.mark.parametrize("service", ["intake", "referral", "registry"])
def test_migrating_an_empty_sqlite_database_twice_creates_every_table_once(
        service: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    schema = importlib.import_module(f"{service}.adapters.schema")
    engine = make_engine(f"sqlite:///{tmp_path / f'{service}.db'}")
    try:
        schema.create_schema(engine)
        schema.create_schema(engine)  # a second start changes nothing
        tables = getattr(schema, f"{service}_tables")()
        assert {t.name for t in tables} <= set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            # Raises when autogenerate would produce a new migration (a model changed without one).
            command.check(schema.alembic_config(conn))
    finally:
        engine.dispose()
