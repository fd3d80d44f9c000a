"""Crash points: silent unless `HAVEN_CRASH_AT` names them, then exit at exactly the nth hit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from haven_shared import faults
from haven_shared.faults import CrashPoints, CrashSpec, UnknownCrashPoint

BACKBONE = Path(faults.__file__).parent


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    faults.reset()
    yield
    faults.reset()


def _recorder(spec: CrashSpec | None) -> tuple[CrashPoints, list[int]]:
    exits: list[int] = []
    return CrashPoints(spec, exits.append), exits


def test_without_the_setting_no_point_ever_exits() -> None:
    points = CrashPoints.from_env({}, exit_fn=lambda code: pytest.fail(f"exited {code}"))
    for point in faults.POINTS * 3:
        points.hit(point)
    assert points.spec is None and points.hits("uow.after-commit") == 0


def test_an_empty_setting_is_the_same_as_none() -> None:
    assert CrashPoints.from_env({faults.ENV_VAR: "  "}).spec is None


def test_the_configured_point_exits_at_its_nth_hit_only() -> None:
    points, exits = _recorder(CrashSpec.parse("relay.after-publish-before-mark-sent:3"))
    points.hit("relay.after-publish-before-mark-sent")
    points.hit("relay.after-mark-sent")  # another point does not count
    points.hit("relay.after-publish-before-mark-sent")
    assert exits == []
    points.hit("relay.after-publish-before-mark-sent")
    assert exits == [137]
    points.hit("relay.after-publish-before-mark-sent")
    assert exits == [137]  # only the nth hit


def test_several_points_each_count_their_own_hits_and_the_first_due_exits() -> None:
    specs = faults.parse_specs("uow.after-commit:2, relay.after-claim")
    assert faults.format_specs(specs) == "uow.after-commit:2,relay.after-claim:1"
    points, exits = _recorder(None)
    points = CrashPoints(specs, exits.append)
    points.hit("uow.after-commit")
    assert exits == []
    points.hit("relay.after-claim")
    assert exits == [137]
    assert points.hits("uow.after-commit") == 1 and points.hits("relay.after-claim") == 1


def test_a_point_named_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="once"):
        faults.parse_specs("uow.after-commit:1,uow.after-commit:2")


def test_the_hit_count_defaults_to_one() -> None:
    assert CrashSpec.parse("inbox.after-offset-commit") == CrashSpec("inbox.after-offset-commit", 1)


@pytest.mark.parametrize("text", ["relay.nowhere", "inbox.after-poll:0", "uow.after-commit:x"])
def test_a_wrong_setting_is_refused_rather_than_ignored(text: str) -> None:
    with pytest.raises(ValueError):
        CrashSpec.parse(text)


def test_an_unknown_point_names_itself() -> None:
    with pytest.raises(UnknownCrashPoint, match="relay.nowhere"):
        CrashSpec.parse("relay.nowhere")


def test_the_backbone_calls_exactly_the_declared_points() -> None:
    called: set[str] = set()
    for module in ("faults.py", "uow.py", "outbox.py", "relay.py", "inbox.py"):
        called |= set(re.findall(r'crash_point\("([^"]+)"\)', (BACKBONE / module).read_text()))
    assert called == set(faults.POINTS)
    assert len(called) >= 12


def _run(code: str, env_value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != faults.ENV_VAR}
    if env_value is not None:
        env[faults.ENV_VAR] = env_value
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


UOW_SCRIPT = """
import sqlalchemy as sa
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
engine = sa.create_engine("sqlite://")
with UnitOfWork(engine, Outbox(source="/haven/test")) as uow:
    uow.commit()
    uow.commit()
print("survived", flush=True)
"""


def test_a_process_dies_like_kill_9_at_the_configured_commit() -> None:
    crashed = _run(UOW_SCRIPT, "uow.after-commit:2")
    assert crashed.returncode == 137
    assert "survived" not in crashed.stdout
    assert "crash point uow.after-commit hit #2" in crashed.stderr


SUBCLASS_SCRIPT = """
import sqlalchemy as sa
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
class Direct(UnitOfWork):
    def commit(self):
        self.session.commit()   # a service's own commit, bypassing UnitOfWork.commit
engine = sa.create_engine("sqlite://")
with Direct(engine, Outbox(source="/haven/test")) as uow:
    uow.commit()
print("survived", flush=True)
"""


def test_commit_points_fire_for_a_unit_of_work_that_commits_its_session_itself() -> None:
    before = _run(SUBCLASS_SCRIPT, "uow.before-commit")
    assert before.returncode == 137 and "survived" not in before.stdout


def test_a_process_without_the_setting_runs_through_the_same_commits() -> None:
    clean = _run(UOW_SCRIPT, None)
    assert clean.returncode == 0, clean.stderr
    assert "survived" in clean.stdout
    fewer = _run(UOW_SCRIPT, "uow.after-commit:3")
    assert fewer.returncode == 0 and "survived" in fewer.stdout
