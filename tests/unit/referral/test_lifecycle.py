"""The referral lifecycle allows exactly the FHIR-Task-like transitions and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral.domain.lifecycle import (
    TERMINAL,
    IllegalTransition,
    ReasonRequired,
    Status,
    can_transition,
    transition,
)

S = Status
LEGAL = {
    (S.REQUESTED, S.ACCEPTED), (S.REQUESTED, S.REJECTED), (S.REQUESTED, S.CANCELLED),
    (S.ACCEPTED, S.IN_PROGRESS), (S.ACCEPTED, S.CANCELLED),
    (S.IN_PROGRESS, S.ON_HOLD), (S.ON_HOLD, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.COMPLETED), (S.IN_PROGRESS, S.FAILED), (S.ON_HOLD, S.FAILED),
} | {(s, S.ENTERED_IN_ERROR) for s in S if s != S.ENTERED_IN_ERROR}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_exactly_the_documented_transitions_are_allowed(current: Status, target: Status) -> None:
    assert can_transition(current, target) == ((current, target) in LEGAL)


def test_an_illegal_transition_raises_naming_both_states() -> None:
    with pytest.raises(IllegalTransition, match="completed cannot become in-progress"):
        transition(S.COMPLETED, S.IN_PROGRESS)


@pytest.mark.parametrize("target,current", [(S.REJECTED, S.REQUESTED), (S.FAILED, S.IN_PROGRESS),
                                            (S.ENTERED_IN_ERROR, S.ACCEPTED)])
def test_rejection_failure_and_error_need_a_reason(target: Status, current: Status) -> None:
    with pytest.raises(ReasonRequired):
        transition(current, target, "  ")
    assert transition(current, target, "no beds") == target


def test_terminal_states_are_final() -> None:
    assert TERMINAL == {S.REJECTED, S.CANCELLED, S.COMPLETED, S.FAILED, S.ENTERED_IN_ERROR}


@given(st.lists(st.sampled_from(list(S)), max_size=30))
def test_any_sequence_of_attempts_only_ever_takes_legal_steps(attempts: list[Status]) -> None:
    status = S.REQUESTED
    for target in attempts:
        try:
            new = transition(status, target, "reason")
        except IllegalTransition:
            continue
        assert (status, new) in LEGAL
        status = new
