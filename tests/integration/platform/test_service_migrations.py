"""Each service's Alembic migrations on PostgreSQL: they build exactly the schema its table models
describe, instances starting together migrate once, and a database made by `create_all` before
the service had migrations is completed and brought under them."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from haven_shared.db import make_engine
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra
SERVICES = ("intake", "referral", "registry")


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest) -> tuple[str, ModuleType]:
    return request.param, importlib.import_module(f"{request.param}.adapters.schema")


@pytest.fixture
def fresh_url(stack: LocalStack, service: tuple[str, ModuleType]) -> Iterator[str]:
    url = stack.create_database(f"{service[0]}_migrate")
    try:
        yield url
    finally:
        stack.drop_database(url)


def _tables(service: tuple[str, ModuleType]) -> list[sa.Table]:
    name, schema = service
    return list(getattr(schema, f"{name}_tables")())


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("select version_num from alembic_version")).scalar()


def _head(schema: ModuleType) -> str:
    head = ScriptDirectory.from_config(schema.alembic_config()).get_current_head()
    assert head is not None
    return head


def test_the_migrated_schema_equals_the_models(service: tuple[str, ModuleType],
                                               fresh_url: str) -> None:
    schema = service[1]
    engine = make_engine(fresh_url)
    try:
        schema.create_schema(engine)
        with engine.connect() as conn:
            # Raises when autogenerate finds any difference between models and database.
            command.check(schema.alembic_config(conn))
        assert {t.name for t in _tables(service)} <= set(sa.inspect(engine).get_table_names())
        assert _revision(engine) == _head(schema)
        with engine.connect() as conn:
            head = conn.execute(sa.text("select seq, entry_hash from audit_chain_head")).one()
        assert (head.seq, head.entry_hash) == (0, "0" * 64)
    finally:
        engine.dispose()


def test_instances_starting_together_migrate_once(service: tuple[str, ModuleType],
                                                  fresh_url: str) -> None:
    schema = service[1]
    engines = [make_engine(fresh_url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            list(pool.map(schema.create_schema, engines))  # re-raises any instance's failure
        with engines[0].connect() as conn:
            assert conn.execute(sa.text("select count(*) from alembic_version")).scalar() == 1
            assert conn.execute(sa.text("select count(*) from audit_chain_head")).scalar() == 1
        schema.create_schema(engines[0])  # a later start changes nothing
        assert _revision(engines[0]) == _head(schema)
    finally:
        for engine in engines:
            engine.dispose()


def test_a_database_created_before_migrations_is_completed_and_stamped(
        service: tuple[str, ModuleType], fresh_url: str) -> None:
    schema = service[1]
    engine = make_engine(fresh_url)
    try:
        marker = [t for t in _tables(service) if t.name == schema.MARKER_TABLE]
        assert marker, f"{schema.MARKER_TABLE} is not one of the service's tables"
        SQLModel.metadata.create_all(engine, tables=marker)
        schema.create_schema(engine)
        assert _revision(engine) == _head(schema)
        with engine.connect() as conn:
            command.check(schema.alembic_config(conn))
    finally:
        engine.dispose()
