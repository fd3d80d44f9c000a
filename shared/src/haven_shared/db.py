"""Database engines: PostgreSQL for deployments and tests, SQLite for running locally."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for `url`; SQLite gets its folder, WAL and foreign keys, PostgreSQL pre-ping."""
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
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as conn:
        conn.execute(text("select 1"))
