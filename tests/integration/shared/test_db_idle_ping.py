"""Pooled PostgreSQL connections: one that sat idle is pinged and replaced when the server
dropped it; one handed straight back out is not pinged."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from audit_tamper import fresh_audit_database

from haven_shared.db import make_engine
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra


def _backend(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("select pg_backend_pid()")).scalar_one())


def test_a_connection_dropped_while_idle_is_replaced_on_checkout(stack: LocalStack) -> None:
    with fresh_audit_database(stack.database_url("intake")) as url:
        engine = make_engine(url, pool_size=1, max_overflow=0, ping_after_idle_seconds=0.2)
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            first = _backend(engine)
            with admin.connect() as conn:
                conn.execute(sa.text("select pg_terminate_backend(:p)"), {"p": first})
            time.sleep(0.4)  # idle longer than the threshold: pinged, found dead, replaced
            assert _backend(engine) != first
        finally:
            engine.dispose()
            admin.dispose()


def test_a_connection_reused_at_once_is_not_pinged(stack: LocalStack) -> None:
    with fresh_audit_database(stack.database_url("intake")) as url:
        engine = make_engine(url, pool_size=1, max_overflow=0, ping_after_idle_seconds=60)
        try:
            before = engine.dialect.do_ping
            calls: list[object] = []
            engine.dialect.do_ping = lambda c: calls.append(c) or before(c)  # type: ignore[method-assign]
            assert _backend(engine) == _backend(engine)
            assert calls == []
        finally:
            engine.dispose()
