"""`haven dead-letters` on SQLite: a real inbox consumer parks a record its handler cannot
apply; the command lists it with its reason; replaying after the fix applies it once, and
replaying again changes nothing. Kafka is replaced by a list of sent records (the redelivery
is handed to the consumer as its next record)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from haven_shared.cli import app
from haven_shared.cli import dead_letters as dl
from haven_shared.db import make_engine
from haven_shared.events import Envelope, ProbeRecorded
from haven_shared.inbox import INBOX, InboxConsumer, create_inbox_tables
from haven_shared.outbox import create_outbox_table
from haven_shared.uow import UnitOfWork

SEEN = sa.Table(
    "seen_probe",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.Integer),
)


@dataclass(frozen=True)
class Record:
    """Shaped like a ConsumerRecord of kafka-python."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass
class Broker:
    """Stands in for the topic: what replay sends is appended at the next offset."""

    sent: list[Record] = field(default_factory=list)
    next_offset: int = 100

    def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        self.sent.append(Record(topic, 0, self.next_offset, key, value, headers))
        self.next_offset += 1


@dataclass
class Handler:
    """Fails (as a missing provider would) until fixed."""

    fixed: bool = False

    def __call__(self, event: ProbeRecorded, uow: UnitOfWork) -> None:
        if not self.fixed:
            raise LookupError("no provider for this need")
        uow.session.execute(SEEN.insert().values(seq=event.seq))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'referral.db'}"


@pytest.fixture
def engine(url: str):  # type: ignore[no-untyped-def]
    e = make_engine(url)
    create_outbox_table(e)
    create_inbox_tables(e)
    SEEN.create(e)
    yield e
    e.dispose()


def consumer(engine: sa.Engine, handler: Handler) -> InboxConsumer:
    return InboxConsumer(
        engine,
        lambda: None,
        {ProbeRecorded: handler},  # type: ignore[arg-type,return-value]
        name="referral-intake",
        max_attempts=2,
        sleep=lambda _s: None,
    )


def probe(seq: int, offset: int) -> Record:
    envelope = Envelope.wrap(ProbeRecorded(probe_id="p", seq=seq), "/haven/test")
    return Record("intake.case", 0, offset, b"case-1", envelope.body(), envelope.kafka_headers())


def applied(engine: sa.Engine) -> list[int]:
    with engine.connect() as c:
        return list(c.execute(sa.select(SEEN.c.seq).order_by(SEEN.c.id)).scalars())


PARKED: dict[int, Record] = {}


def parked(engine: sa.Engine, handler: Handler, seq: int = 1, offset: int = 7) -> int:
    """Park one probe event; its dead-letter id (the record in PARKED)."""
    record = probe(seq, offset)
    assert consumer(engine, handler).process(record) == "dead_lettered"
    [letter] = [x for x in dl.list_letters(engine) if x.offset == offset]
    PARKED[letter.id] = record
    return letter.id


def test_the_list_shows_each_dead_letter_with_its_place_type_reason_and_attempts(
    engine: sa.Engine, url: str
) -> None:
    parked(engine, Handler())
    result = CliRunner().invoke(
        app, ["dead-letters", "list", "--service", "referral", "--database-url", url, "--json"]
    )
    assert result.exit_code == 0, result.output
    [letter] = json.loads(result.output)
    assert letter["service"] == "referral"
    assert letter["consumer"] == "referral-intake"
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("intake.case", 0, 7)
    assert letter["key"] == "case-1"
    assert letter["event_type"] == "haven.test.probe.recorded.v2"
    assert letter["reason"].startswith("LookupError")
    assert letter["attempts"] == 2


def test_the_table_names_the_service_and_counts_the_letters(engine: sa.Engine, url: str) -> None:
    parked(engine, Handler())
    result = CliRunner().invoke(
        app, ["dead-letters", "list", "--service", "referral", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "1 dead letters" in result.output
    assert "referral" in result.output


def test_a_replayed_letter_is_applied_once_after_the_fix(engine: sa.Engine) -> None:
    handler = Handler()
    letter_id = parked(engine, handler)
    handler.fixed = True
    broker = Broker()
    assert dl.replay(engine, broker.send, [letter_id]) == {letter_id: "replayed"}
    [again] = broker.sent
    original = PARKED[letter_id]
    assert (again.topic, again.key, again.value) == (original.topic, original.key, original.value)
    assert dict(again.headers)["ce_id"] == dict(original.headers)["ce_id"]
    assert consumer(engine, handler).process(again) == "applied"
    assert applied(engine) == [1]
    assert dl.list_letters(engine) == []


def test_replaying_again_changes_nothing(engine: sa.Engine) -> None:
    handler = Handler()
    letter_id = parked(engine, handler)
    handler.fixed = True
    broker = Broker()
    dl.replay(engine, broker.send, [letter_id])
    for record in broker.sent:
        consumer(engine, handler).process(record)
    assert dl.replay(engine, broker.send, [letter_id]) == {letter_id: "not found"}
    assert dl.replay(engine, broker.send, None) == {}
    # Even the same record delivered once more is only a duplicate.
    assert consumer(engine, handler).process(broker.sent[0]) == "duplicates"
    assert len(broker.sent) == 1
    assert applied(engine) == [1]


def test_a_record_that_still_fails_is_parked_anew_and_nothing_is_applied(engine: sa.Engine) -> None:
    handler = Handler()
    letter_id = parked(engine, handler)
    broker = Broker()
    dl.replay(engine, broker.send, [letter_id])
    assert consumer(engine, handler).process(broker.sent[0]) == "dead_lettered"
    [letter] = dl.list_letters(engine)
    assert letter.offset == broker.sent[0].offset
    assert applied(engine) == []


def test_the_inbox_mark_is_gone_before_the_record_is_sent(engine: sa.Engine) -> None:
    """Else a fast consumer would find the mark and skip the redelivery as a duplicate."""
    letter_id = parked(engine, Handler())
    marks: list[int] = []

    def send(
        topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        with engine.connect() as c:
            marks.append(c.execute(sa.select(sa.func.count()).select_from(INBOX)).scalar_one())

    dl.replay(engine, send, [letter_id])
    assert marks == [0]


def test_a_failed_send_leaves_the_letter_listed(engine: sa.Engine) -> None:
    letter_id = parked(engine, Handler())

    def refuse(*_args: object) -> None:
        raise TimeoutError("broker gone")

    with pytest.raises(TimeoutError):
        dl.replay(engine, refuse, [letter_id])
    assert [x.id for x in dl.list_letters(engine)] == [letter_id]


def test_the_replay_command_sends_every_letter_with_all(
    engine: sa.Engine, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parked(engine, Handler(), seq=1, offset=7)
    parked(engine, Handler(), seq=2, offset=8)
    broker = Broker()
    closed: list[bool] = []
    monkeypatch.setattr(
        dl, "kafka_sender", lambda _bootstrap: (broker.send, lambda: closed.append(True))
    )
    args = ["dead-letters", "replay", "--all", "--service", "referral", "--database-url", url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 replayed" in result.output
    assert [r.offset for r in broker.sent] == [100, 101] and closed == [True]
    result = CliRunner().invoke(app, args)
    assert "0 replayed" in result.output


def test_replay_wants_ids_or_all_but_not_both(url: str) -> None:
    runner = CliRunner()
    for args in ([], ["3", "--all"]):
        result = runner.invoke(
            app, ["dead-letters", "replay", *args, "--service", "referral", "--database-url", url]
        )
        assert result.exit_code == 2, result.output


def test_an_unknown_service_is_refused(url: str) -> None:
    result = CliRunner().invoke(app, ["dead-letters", "list", "--service", "billing"])
    assert result.exit_code == 2


def test_the_database_is_the_services_setting_else_its_make_up_file(tmp_path: Path) -> None:
    env = {
        "REFERRAL_DATABASE_URL": "postgresql+psycopg://db/referral",
        "HAVEN_RUN_DIR": str(tmp_path),
    }
    assert dl.database_url("referral", env) == "postgresql+psycopg://db/referral"
    assert dl.database_url("intake", env) == f"sqlite:///{tmp_path / 'intake.db'}"
    assert dl.kafka_bootstrap("registry", {"REGISTRY_KAFKA_BOOTSTRAP": "k:9"}) == "k:9"
