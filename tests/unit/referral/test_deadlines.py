"""Legal clocks fire approaching and breached alerts at the configured offsets, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from referral.domain.deadlines import Deadline, DeadlineKind, due_alerts, reflection_period_end

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
OFFSETS = (7 * DAY, DAY)


def test_the_reflection_period_lasts_at_least_30_days() -> None:
    assert reflection_period_end(T0) == T0 + 30 * DAY
    assert reflection_period_end(T0, days=45) == T0 + 45 * DAY
    with pytest.raises(ValueError):
        reflection_period_end(T0, days=29)


def test_alerts_fire_at_each_offset_then_on_breach_and_never_twice() -> None:
    d = Deadline("d1", "case-1", DeadlineKind.REFLECTION_PERIOD_END, T0 + 30 * DAY, "ana")
    sent: set[str] = set()

    def tick(at: datetime) -> list[tuple[str, timedelta]]:
        alerts = due_alerts([d], at, OFFSETS, sent)
        sent.update(a.key for a in alerts)
        return [(a.kind, a.offset) for a in alerts]

    assert tick(T0 + 22 * DAY) == []
    assert tick(T0 + 23 * DAY) == [("approaching", 7 * DAY)]
    assert tick(T0 + 24 * DAY) == []
    assert tick(T0 + 29 * DAY) == [("approaching", DAY)]
    assert tick(T0 + 29 * DAY + timedelta(hours=1)) == []
    assert tick(T0 + 30 * DAY) == [("breached", timedelta(0))]
    assert tick(T0 + 31 * DAY) == []


def test_a_late_first_tick_sends_only_the_nearest_alert() -> None:
    d = Deadline("d2", "case-2", DeadlineKind.RESIDENCE_PERMIT_EXPIRY, T0 + 10 * DAY, "ben")
    alerts = due_alerts([d], T0 + 9 * DAY + timedelta(hours=12), OFFSETS, set())
    assert [(a.kind, a.offset) for a in alerts] == [("approaching", DAY)]


def test_alerts_come_earliest_deadline_first() -> None:
    late = Deadline("late", "c", DeadlineKind.RESIDENCE_PERMIT_EXPIRY, T0 + 5 * DAY, "ana")
    early = Deadline("early", "c", DeadlineKind.REFLECTION_PERIOD_END, T0 + 2 * DAY, "ana")
    alerts = due_alerts([late, early], T0 + 3 * DAY, OFFSETS, set())
    assert [(a.deadline.deadline_id, a.kind) for a in alerts] == [
        ("early", "breached"), ("late", "approaching")]
