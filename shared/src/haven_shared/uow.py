"""Unit of work: owns one database transaction and the domain events raised inside it.

    with UnitOfWork(engine, outbox) as uow:
        case = CaseRepository(uow.session).get(case_id)   # repositories never commit
        case.close(reason)                                # the aggregate records its events
        uow.track(case)                                   # ...or uow.emit(SomeEvent(...))
        uow.commit()                                      # state + outbox rows, one commit

Leaving the block without `commit()` rolls back, events included. Aggregates expose the events
they recorded as a list attribute `events` (cosmicpython style); `translate` maps those domain
events to catalogue events when the two differ, and may return None to keep one internal.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlmodel import Session

from haven_shared.events.model import Event
from haven_shared.faults import watch_commits
from haven_shared.outbox import Outbox

Translate = Callable[[Any], Event | None]


def _same(event: Any) -> Event | None:
    if not isinstance(event, Event):
        raise TypeError(f"{type(event).__name__} is not a catalogue event; pass translate=")
    return event


class UnitOfWork:
    """One transaction: state changes and their outgoing events commit (or vanish) together."""

    def __init__(self, engine: sa.Engine, outbox: Outbox, *, translate: Translate = _same
                 ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.translate = translate
        self._session: Session | None = None
        self._pending: list[Event] = []
        self._tracked: list[Any] = []

    @property
    def session(self) -> Session:
        """The transaction's session; only valid inside the `with` block."""
        if self._session is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._session

    def __enter__(self) -> Self:
        # expire_on_commit=False: callers read results (ids, versions) after commit.
        self._session = Session(self.engine, expire_on_commit=False)
        watch_commits(self._session)  # crash points around every commit; tests only
        self._pending, self._tracked = [], []
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.rollback()
        finally:
            self.session.close()
            self._session = None

    def emit(self, event: Event) -> None:
        """Queue an event for the outbox of this transaction."""
        self._pending.append(event)

    def track(self, aggregate: Any) -> None:
        """Collect `aggregate.events` at commit time."""
        if all(a is not aggregate for a in self._tracked):
            self._tracked.append(aggregate)

    def collect(self) -> list[Event]:
        """Take the queued and tracked events (clearing them), translated to catalogue events."""
        events = list(self._pending)
        self._pending.clear()
        for aggregate in self._tracked:
            raised = getattr(aggregate, "events", [])
            while raised:
                translated = self.translate(raised.pop(0))
                if translated is not None:
                    events.append(translated)
        return events

    def flush_events(self) -> int:
        """Write the collected events to the outbox in this transaction (no commit)."""
        events = self.collect()
        if events:
            self.outbox.add_all(self.session, events)
        return len(events)

    def commit(self) -> None:
        """Write collected events to the outbox and commit everything at once."""
        self.flush_events()
        self.session.commit()

    def rollback(self) -> None:
        """Discard the transaction and every event not yet committed."""
        self._pending.clear()
        for aggregate in self._tracked:
            if isinstance(getattr(aggregate, "events", None), list):
                aggregate.events.clear()
        self.session.rollback()
