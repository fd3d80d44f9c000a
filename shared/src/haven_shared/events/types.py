"""Event types defined by the shared library itself.

`haven.test.*` exercise the machinery (outbox, relay, inbox, upcasting) in tests and benchmarks.
`haven.intake.case.opened.v1` is the first real contract: the workflow issues add the rest next
to it. Importing `haven_shared.events` registers all of them in `CATALOGUE`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from haven_shared.events.catalogue import CATALOGUE, event
from haven_shared.events.model import Event, SealedPersonalData

_EXAMPLE_CASE = UUID("0b5c3f7e-5d2a-4c1e-9a57-3f1f2b9d6a10")
_EXAMPLE_TIME = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@event
class ProbeRecordedV1(Event):
    """First shape of the test probe: a counter under an aggregate (kept for the upcaster)."""

    event_type = "haven.test.probe.recorded.v1"
    aggregate_type = "test-probe"
    aggregate_id_field = "probe_id"
    topic = "haven.test.probe"
    summary = "Test-only event (version 1): a probe's counter moved."

    probe_id: str
    n: int

    @classmethod
    def example(cls) -> ProbeRecordedV1:
        return cls(probe_id="probe-1", n=1)


@event
class ProbeRecorded(Event):
    """Test probe: the `seq`-th change of aggregate `probe_id`; `label` is free test data."""

    event_type = "haven.test.probe.recorded.v2"
    aggregate_type = "test-probe"
    aggregate_id_field = "probe_id"
    topic = "haven.test.probe"
    summary = "Test-only event: the seq-th state change of a probe aggregate."

    probe_id: str = Field(max_length=200)
    seq: int = Field(ge=0, description="Position of this change within its probe.")
    label: str = Field(default="", max_length=200)

    @classmethod
    def example(cls) -> ProbeRecorded:
        return cls(probe_id="probe-1", seq=1, label="first")


@CATALOGUE.upcaster(ProbeRecordedV1.event_type, ProbeRecorded.event_type)
def _probe_v1_to_v2(body: dict[str, Any]) -> dict[str, Any]:
    # v1 called the counter `n`; v2 renamed it `seq` and added an optional label.
    return {"probe_id": body["probe_id"], "seq": body["n"], "label": ""}


@event
class CaseOpened(Event):
    """A caseworker opened a case (tracing or survivor support) at intake.

    The people concerned are only in `subject`, sealed with the data subject's key.
    """

    event_type = "haven.intake.case.opened.v1"
    aggregate_type = "case"
    aggregate_id_field = "case_id"
    topic = "intake.case"
    summary = "A case was opened at intake; personal details are sealed per data subject."

    case_id: UUID
    organisation_id: str = Field(max_length=100, description="Organisation owning the case.")
    case_kind: Literal[
        "missing-person", "found-person", "unidentified-remains", "survivor-support"
    ]
    opened_at: datetime
    subject: SealedPersonalData

    @classmethod
    def example(cls) -> CaseOpened:
        return cls(
            case_id=_EXAMPLE_CASE,
            organisation_id="org-red-crescent-demo",
            case_kind="missing-person",
            opened_at=_EXAMPLE_TIME,
            subject=SealedPersonalData(
                key_id="subject-key-7f3a",
                nonce="0o3QnJ7m2Yw9b0Zk",
                ciphertext="q6Xo7QnqgV1l0z3p2n8X9eR4Uu7YbJk1Zc0aHfV5wq8",
            ),
        )
