"""SQLite engines keep SQLAlchemy's transaction semantics: a savepoint rolled back is undone,
the work around it stays, and a rolled-back transaction leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from haven_shared.db import make_engine


def _engine(tmp_path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'savepoints.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("create table t (n integer)"))
    return engine


def _rows(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("select n from t order by n"))]


def test_a_rolled_back_savepoint_is_undone_and_the_rest_commits(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with Session(engine) as session:
        session.execute(sa.text("insert into t values (1)"))
        savepoint = session.begin_nested()
        session.execute(sa.text("insert into t values (2)"))
        savepoint.rollback()
        session.execute(sa.text("insert into t values (3)"))
        session.commit()
    assert _rows(engine) == [1, 3]


def test_a_savepoint_as_first_statement_is_inside_the_transaction(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with Session(engine) as session:
        with session.begin_nested():
            session.execute(sa.text("insert into t values (1)"))
        session.rollback()
    assert _rows(engine) == []


def test_reads_and_writes_of_one_transaction_see_one_snapshot(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(sa.text("insert into t values (1)"))
        assert conn.execute(sa.text("select count(*) from t")).scalar_one() == 1
        conn.rollback()
    assert _rows(engine) == []
