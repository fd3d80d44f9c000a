"""The registry's Alembic migrations on PostgreSQL: they build exactly the schema the table models
describe, instances starting together migrate once, and a database made by `create_all` before
migrations existed is completed and brought under them."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import SQLModel

from haven_shared.db import make_engine
from haven_shared.testing.stack import LocalStack
from registry.adapters.schema import alembic_config, create_schema, registry_tables

pytestmark = pytest.mark.infra


@pytest.fixture
def fresh_url(stack: LocalStack) -> Iterator[str]:
    url = stack.create_database("registry_migrate")
    try:
        yield url
    finally:
        stack.drop_database(url)


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("select version_num from alembic_version")).scalar()


def _head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_the_migrated_schema_equals_the_models_on_postgresql(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            # Raises when autogenerate finds any difference between models and database.
            command.check(alembic_config(conn))
        names = set(sa.inspect(engine).get_table_names())
        assert {t.name for t in registry_tables()} <= names
        assert _revision(engine) == _head()
        with engine.connect() as conn:
            head = conn.execute(sa.text("select seq, entry_hash from audit_chain_head")).one()
        assert (head.seq, head.entry_hash) == (0, "0" * 64)
    finally:
        engine.dispose()


def test_instances_starting_together_migrate_once(fresh_url: str) -> None:
    engines = [make_engine(fresh_url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            list(pool.map(create_schema, engines))  # re-raises any instance's failure
        with engines[0].connect() as conn:
            assert conn.execute(sa.text("select count(*) from alembic_version")).scalar() == 1
            assert conn.execute(sa.text("select count(*) from audit_chain_head")).scalar() == 1
        create_schema(engines[0])  # a later start changes nothing
        assert _revision(engines[0]) == _head()
    finally:
        for engine in engines:
            engine.dispose()


def test_a_database_created_before_migrations_is_completed_and_stamped(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        directory_only = [t for t in registry_tables() if t.name.startswith("directory_")]
        SQLModel.metadata.create_all(engine, tables=directory_only)
        create_schema(engine)
        assert _revision(engine) == _head()
        with engine.connect() as conn:
            command.check(alembic_config(conn))
    finally:
        engine.dispose()
