"""Database engines: PostgreSQL for deployments and tests, SQLite for running locally."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for `url`; SQLite gets its folder, WAL and foreign keys, PostgreSQL a ping of
    connections that were idle in the pool (`ping_after_idle_seconds`)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            # The sqlite3 module opens transactions only before data changes, so a SAVEPOINT
            # issued first would run outside any transaction and its rollback undo nothing.
            # SQLAlchemy starts every transaction itself instead (its documented recipe).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN")

        return engine
    ping_idle = kwargs.pop("ping_after_idle_seconds", PING_AFTER_IDLE_SECONDS)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_after_idle(engine, float(ping_idle))  # type: ignore[arg-type]
    return engine


#: A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "haven.returned_at"


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for connections that sat in the pool: a connection
    returned more than `idle_seconds` ago is pinged on checkout and, when the server has gone
    away meanwhile (restart, failover), replaced (SQLAlchemy's checkout-event recipe). A
    connection handed straight back out under load was working a moment ago and skips the
    round trip that `pool_pre_ping` spends on every checkout; a server lost in that moment
    fails that one statement and the pool is invalidated, as without pre-ping."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned <= idle_seconds:
            return  # fresh from connect, or back in the pool only a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - the pool retries on a fresh connection
            raise DisconnectionError("pooled connection lost while idle") from exc
        if not alive:
            raise DisconnectionError("pooled connection lost while idle")


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as conn:
        conn.execute(text("select 1"))
