"""Fixtures for the event-backbone tests: a fresh PostgreSQL database and fresh topics each."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from backbone_helpers import METADATA

from haven_shared.db import make_engine
from haven_shared.inbox import create_inbox_tables
from haven_shared.kafka import ensure_topics
from haven_shared.outbox import create_outbox_table
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra


def _create_schema(engine: sa.Engine) -> None:
    create_outbox_table(engine)
    create_inbox_tables(engine)
    METADATA.create_all(engine)


@pytest.fixture
def pg_engine(stack: LocalStack) -> Iterator[sa.Engine]:
    """An engine on a database of its own (dropped afterwards), with the backbone tables."""
    url = stack.create_database("backbone")
    engine = make_engine(url)
    _create_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        stack.drop_database(url)


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[sa.Engine]:  # type: ignore[no-untyped-def]
    """An engine on a SQLite file, as a service runs locally."""
    engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    _create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def new_topic(stack: LocalStack) -> Callable[..., str]:
    """Creates a topic with a unique name (brokers do not auto-create topics)."""

    def create(prefix: str = "backbone", partitions: int = 3) -> str:
        name = f"test.{prefix}.{uuid.uuid4().hex[:10]}"
        ensure_topics(stack.kafka_bootstrap, {name: partitions})
        return name

    return create
