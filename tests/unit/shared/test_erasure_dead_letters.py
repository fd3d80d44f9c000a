"""Dead letters never hold personal data in clear: the reason is the error type and a code (or
the failing fields), never an exception's message; the stored record is the event as it came,
its personal fields sealed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlmodel import Session

from haven_shared.inbox import DeadLetter, InboxConsumer, describe_failure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_inbox_sqlite import FakeConsumer, ProbeRecorded, engine, probe_record  # noqa: E402

__all__ = ["engine"]  # fixture
CANARY = "Zanzibarqx Okonkwo"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


class _Coded(Exception):
    reason_code = "no-provider"


def test_an_exception_message_quoting_a_name_is_not_kept() -> None:
    assert describe_failure(ValueError(f"cannot file {CANARY}")) == "ValueError"
    assert describe_failure(_Coded(f"nothing for {CANARY}")) == "_Coded: no-provider"


def test_a_validation_failure_names_fields_but_never_a_key_the_sender_chose() -> None:
    with pytest.raises(ValidationError) as caught:
        _Strict.model_validate({"name": 3, CANARY: "x"})
    reason = describe_failure(caught.value)
    assert reason == "ValidationError: name (string_type), ? (extra_forbidden)"
    assert "Zanzibarqx" not in reason


def test_a_parked_record_keeps_no_message(engine: sa.Engine) -> None:
    def failing(event: ProbeRecorded, uow: object) -> None:
        raise RuntimeError(f"directory has no bed for {CANARY}")

    consumer = InboxConsumer(engine, lambda: FakeConsumer([probe_record(1, 0)]),
                             {ProbeRecorded: failing}, name="unit", max_attempts=2,
                             sleep=lambda _: None)
    assert consumer.poll_once().dead_lettered == 1
    with Session(engine) as s:
        (letter,) = s.execute(sa.select(DeadLetter)).scalars()
    assert letter.reason == "RuntimeError"
    assert CANARY not in str(letter.headers) and CANARY.encode() not in bytes(letter.value)
