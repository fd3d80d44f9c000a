"""The migrations build exactly the schema the table models describe."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from haven_shared.db import make_engine
from intake.adapters.schema import alembic_config, create_schema, intake_tables


def test_migrating_an_empty_database_creates_every_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    create_schema(engine)
    create_schema(engine)  # idempotent: a second start changes nothing
    names = set(sa.inspect(engine).get_table_names())
    assert {t.name for t in intake_tables()} <= names
    engine.dispose()


def test_the_models_and_the_migrations_agree(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    create_schema(engine)
    with engine.connect() as conn:
        # Raises when autogenerate would produce a new migration (a model changed without one).
        command.check(alembic_config(conn))
    engine.dispose()
