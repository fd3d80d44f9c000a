"""Family-notification tasks: opened for the enquirer's organisation, moved open → in-progress →
done and nothing else, seen only by that organisation's caseworkers and supervisors, and what
the news is only with the deceased-records permission."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from registry.domain.family_notification import (
    EnquirerRecord,
    FamilyNotificationTask,
    NotificationKind,
    NotificationOpened,
    NotificationState,
    NotificationStepRefused,
    enquirers,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def task() -> FamilyNotificationTask:
    return FamilyNotificationTask.open(uuid4(), uuid4(), NotificationKind.FAMILY_LINK, uuid4(),
                                       f"intake/missing-person/{uuid4()}", "ngo-a", NOW)


def test_a_task_opens_with_an_event_and_goes_open_in_progress_done() -> None:
    t = task()
    assert t.state is NotificationState.OPEN
    assert isinstance(t.events[0], NotificationOpened)
    t.move_to(NotificationState.IN_PROGRESS, NOW)
    t.move_to(NotificationState.DONE, NOW)
    assert t.state is NotificationState.DONE and t.version == 3 and len(t.events) == 3


@pytest.mark.parametrize(("steps", "refused"), [
    ((), NotificationState.DONE),
    ((), NotificationState.OPEN),
    ((NotificationState.IN_PROGRESS,), NotificationState.IN_PROGRESS),
    ((NotificationState.IN_PROGRESS, NotificationState.DONE), NotificationState.IN_PROGRESS),
])
def test_a_task_never_skips_a_step_nor_goes_back(steps: tuple[NotificationState, ...],
                                                 refused: NotificationState) -> None:
    t = task()
    for step in steps:
        t.move_to(step, NOW)
    with pytest.raises(NotificationStepRefused):
        t.move_to(refused, NOW)


def test_only_the_enquirers_caseworkers_see_it_and_only_deceased_records_learn_the_kind() -> None:
    t = task()
    assert t.visible_to("ngo-a", frozenset({"caseworker"}))
    assert t.visible_to("ngo-a", frozenset({"supervisor"}))
    assert not t.visible_to("ngo-b", frozenset({"caseworker"}))
    assert not t.visible_to("ngo-a", frozenset({"tracing_officer"}))
    assert not FamilyNotificationTask.may_see_kind(frozenset({"caseworker"}))
    assert FamilyNotificationTask.may_see_kind(frozenset({"caseworker", "deceased_records"}))


def test_the_family_to_tell_is_the_missing_person_reports_else_the_found_persons() -> None:
    def rec(kind: str, org: str) -> EnquirerRecord:
        return EnquirerRecord(ref=f"intake/{kind}/{uuid4()}", kind=kind, case_id=uuid4(),
                              organisation_id=org)

    report, found, remains = (rec("missing-person", "ngo-a"), rec("found-person", "ngo-b"),
                              rec("remains", "forensic"))
    assert enquirers([found, report]) == [report]
    assert enquirers([remains, report]) == [report]
    assert enquirers([remains, found]) == [found]
    assert enquirers([remains]) == []
