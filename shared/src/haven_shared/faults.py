"""Named crash points for fault tests: the process dies like `kill -9` at a chosen step.

The backbone (unit of work, outbox, relay, inbox) calls `crash_point("relay.after-claim")` and the
like between the steps whose interleaving with a crash matters. Nothing happens unless the test-only
environment variable `HAVEN_CRASH_AT` names that point; it is read once, at the first call, and
is never set in production:

    HAVEN_CRASH_AT=relay.after-publish-before-mark-sent        # die at the first hit
    HAVEN_CRASH_AT=inbox.after-effect-before-commit:3          # die at the third hit
    HAVEN_CRASH_AT=uow.after-commit:2,relay.after-claim        # whichever is due first

A fault harness restarts the process with the points that have not fired yet, so one run can
crash the same service at several points in turn.

Dying is `os._exit(137)`: no `finally`, no atexit, no flush of buffered Kafka sends and no
database rollback message, like a SIGKILL (exit status 137 = 128 + 9).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

ENV_VAR = "HAVEN_CRASH_AT"
EXIT_STATUS = 137
#: Start of the line written to stderr just before exiting (the harness looks for it).
CRASH_LOG_PREFIX = "haven: crash point "

#: Every point the backbone defines, in the order a request's effects pass through them.
POINTS: tuple[str, ...] = (
    "outbox.after-stage",                      # outbox rows added to the session, no commit
    "uow.before-commit",                       # unit of work's commit begins, not sent
    "uow.after-commit",                        # committed; the relay has not seen the rows
    "relay.after-claim",                       # unsent rows locked, nothing sent
    "relay.before-publish",                    # some rows of the batch handed to the producer
    "relay.after-publish-before-mark-sent",    # Kafka acknowledged, rows still unsent
    "relay.after-mark-sent-before-commit",     # rows updated, the update not committed
    "relay.after-mark-sent",                   # rows marked sent and committed
    "inbox.after-poll",                        # records fetched, none processed
    "inbox.before-effect",                     # duplicate check done, handler not run
    "inbox.after-effect-before-commit",        # handler ran and inbox row staged, no commit
    "inbox.after-db-commit-before-offset-commit",  # effects committed, offsets not
    "inbox.after-offset-commit",               # offsets committed
    "inbox.dead-letter-before-commit",         # dead-letter row staged, no commit
    "inbox.dead-letter-after-commit",          # dead-letter row committed, offsets not
)


class UnknownCrashPoint(ValueError):
    """`HAVEN_CRASH_AT` names a point the backbone does not define."""


@dataclass(frozen=True)
class CrashSpec:
    """Which point kills the process, at which hit (1-based)."""

    point: str
    nth: int = 1

    @classmethod
    def parse(cls, text: str) -> CrashSpec:
        """Parse `<point>[:<nth>]`; raises `UnknownCrashPoint` or `ValueError`."""
        point, _, nth = text.strip().partition(":")
        if point not in POINTS:
            raise UnknownCrashPoint(f"unknown crash point {point!r}")
        n = int(nth) if nth else 1
        if n < 1:
            raise ValueError(f"crash point hit count must be >= 1, not {n}")
        return cls(point, n)


def parse_specs(text: str) -> tuple[CrashSpec, ...]:
    """Parse a comma-separated list of `<point>[:<nth>]`; empty text gives no spec."""
    specs = tuple(CrashSpec.parse(part) for part in text.split(",") if part.strip())
    if len({s.point for s in specs}) != len(specs):
        raise ValueError("each crash point may be named once")
    return specs


def format_specs(specs: Sequence[CrashSpec]) -> str:
    """The `HAVEN_CRASH_AT` value naming `specs`."""
    return ",".join(f"{s.point}:{s.nth}" for s in specs)


class CrashPoints:
    """Counts hits of the configured points and exits the process when one reaches its nth."""

    def __init__(self, specs: CrashSpec | Sequence[CrashSpec] | None,
                 exit_fn: Callable[[int], object] = os._exit) -> None:
        if specs is None:
            specs = ()
        elif isinstance(specs, CrashSpec):
            specs = (specs,)
        self.specs: dict[str, CrashSpec] = {s.point: s for s in specs}
        self._exit = exit_fn
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def spec(self) -> CrashSpec | None:
        """The first configured point (None: this process never crashes)."""
        return next(iter(self.specs.values()), None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 exit_fn: Callable[[int], object] = os._exit) -> CrashPoints:
        """Read `HAVEN_CRASH_AT` (absent or empty: never crash)."""
        text = (os.environ if environ is None else environ).get(ENV_VAR, "")
        return cls(parse_specs(text), exit_fn)

    def hits(self, point: str | None = None) -> int:
        """How often `point` (by default the first configured one) has been reached."""
        if point is None:
            point = self.spec.point if self.spec else ""
        return self._hits.get(point, 0)

    def hit(self, point: str) -> None:
        """Called by the backbone at `point`; exits there when configured and due."""
        spec = self.specs.get(point)
        if spec is None:
            return
        with self._lock:
            n = self._hits[point] = self._hits.get(point, 0) + 1
        if n == spec.nth:
            # One line for the harness's log, then die without any clean-up.
            sys.stderr.write(f"{CRASH_LOG_PREFIX}{point} hit #{spec.nth}, exiting\n")
            sys.stderr.flush()
            self._exit(EXIT_STATUS)


_active: CrashPoints | None = None
_active_lock = threading.Lock()


def active() -> CrashPoints:
    """The process's crash points, configured from the environment on first use."""
    global _active
    if _active is None:
        with _active_lock:
            if _active is None:
                _active = CrashPoints.from_env()
    return _active


def crash_point(point: str) -> None:
    """Mark a step of the backbone; the process dies here if `HAVEN_CRASH_AT` says so."""
    cp = _active if _active is not None else active()
    if cp.specs:
        cp.hit(point)


def reset(points: CrashPoints | None = None) -> None:
    """Replace the process's crash points (tests only); None re-reads the environment later."""
    global _active
    with _active_lock:
        _active = points


def watch_commits(session: Any) -> None:
    """Mark `uow.before-commit` and `uow.after-commit` around every commit of `session`.

    Listens on the session itself, so the points also fire when a service's unit of work
    overrides `commit()` and commits the session directly. Does nothing (no listener) unless
    crash points are configured.
    """
    if not active().specs:
        return
    event.listen(session, "before_commit", _before_commit)
    event.listen(session, "after_commit", _after_commit)


def _before_commit(_session: Any) -> None:
    crash_point("uow.before-commit")


def _after_commit(_session: Any) -> None:
    crash_point("uow.after-commit")
