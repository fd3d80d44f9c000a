"""The referral lifecycle, after the FHIR Task state machine.

    requested -> accepted | rejected(reason) | cancelled
    accepted  -> in-progress | cancelled
    in-progress <-> on-hold
    in-progress | on-hold -> completed | failed(reason)   (completed only from in-progress)
    any state -> entered-in-error
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    FAILED = "failed"
    ENTERED_IN_ERROR = "entered-in-error"


_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.REQUESTED: frozenset({Status.ACCEPTED, Status.REJECTED, Status.CANCELLED}),
    Status.ACCEPTED: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.ON_HOLD, Status.COMPLETED, Status.FAILED}),
    Status.ON_HOLD: frozenset({Status.IN_PROGRESS, Status.FAILED}),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.COMPLETED: frozenset(),
    Status.FAILED: frozenset(),
    Status.ENTERED_IN_ERROR: frozenset(),
}
NEEDS_REASON = frozenset({Status.REJECTED, Status.FAILED, Status.ENTERED_IN_ERROR})
TERMINAL = frozenset(s for s, nxt in _ALLOWED.items() if not nxt)
OPEN = frozenset(Status) - TERMINAL


class IllegalTransition(Exception):
    """A transition the lifecycle does not allow (the API answers 409)."""

    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"a referral that is {current.value} cannot become {target.value}")
        self.current, self.target = current, target


class ReasonRequired(ValueError):
    """Rejection, failure and entered-in-error need a reason."""


def can_transition(current: Status, target: Status) -> bool:
    if target == Status.ENTERED_IN_ERROR:
        return current != Status.ENTERED_IN_ERROR
    return target in _ALLOWED[current]


def transition(current: Status, target: Status, reason: str | None = None) -> Status:
    """The new status, or IllegalTransition / ReasonRequired."""
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
    if target in NEEDS_REASON and not (reason and reason.strip()):
        raise ReasonRequired(f"{target.value} needs a reason")
    return target
