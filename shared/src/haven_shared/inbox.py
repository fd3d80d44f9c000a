"""Idempotent consumer (inbox): each event's effects are applied exactly once.

    consumer = InboxConsumer(
        engine,
        lambda: make_consumer(bootstrap, "registry", ["intake.case"]),
        {CaseOpened: index_case},          # handler(event, uow): writes through uow.session
        name="registry",
        dead_letter_producer=producer, dead_letter_topic="registry.dead-letter",
    )
    consumer.run_forever(stop_event)

For every record: the handler runs inside a `UnitOfWork`; the event id goes into the `inbox`
table in the same transaction, so a redelivered event (replayed offsets, a relay that published
twice, a rebalance) finds its id and is skipped. Offsets are committed to Kafka only after the
database commit. A failing handler is retried with exponential backoff up to `max_attempts`;
then the record is stored in `dead_letter` with the reason (and copied to the dead-letter topic)
and the loop moves on. Records that cannot be read at all are dead-lettered at once. A handler
that cannot reach a service it depends on raises `DependencyUnavailable`: that is an outage, not
a bad record, so nothing is parked; the consumer waits (backing off), is built again from the
last committed offsets, and the record comes again, the records behind it in its partition after.

For throughput, up to `transaction_size` records of one poll share a transaction; when any of
them fails, that group is rolled back and redone one record per transaction (so the failing
handler runs once more than `max_attempts`: handlers must only write through `uow.session`).
`replay_dead_letters()` runs parked records again once their cause is fixed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError
from sqlmodel import Field, SQLModel

from haven_shared.events.catalogue import CATALOGUE, Catalogue, UnknownEventType
from haven_shared.events.envelope import Envelope, MalformedEvent
from haven_shared.events.model import Event
from haven_shared.faults import crash_point
from haven_shared.outbox import JsonColumn, Outbox, SeqColumn, utcnow
from haven_shared.telemetry import context_from, tracer
from haven_shared.uow import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Any, UnitOfWork], None]


class InboxEntry(SQLModel, table=True):
    """An event this consumer has finished with (applied, or dead-lettered)."""

    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=255)
    event_type: str = Field(max_length=255)
    outcome: str = Field(max_length=20)
    processed_at: datetime = Field(sa_type=sa.DateTime(timezone=True), default_factory=utcnow)


class DeadLetter(SQLModel, table=True):
    """A record a consumer gave up on, kept byte for byte so it can be replayed."""

    __tablename__ = "dead_letter"
    __table_args__ = (sa.UniqueConstraint("consumer", "topic", "partition", "offset"),)

    id: int | None = Field(default=None, sa_type=SeqColumn, primary_key=True)
    consumer: str = Field(max_length=100)
    event_id: str | None = Field(default=None, max_length=255)
    event_type: str | None = Field(default=None, max_length=255)
    topic: str = Field(max_length=255)
    partition: int
    offset: int = Field(sa_type=sa.BigInteger())
    key: bytes | None = Field(default=None, sa_type=sa.LargeBinary())
    value: bytes | None = Field(default=None, sa_type=sa.LargeBinary())
    headers: dict[str, str] = Field(sa_type=JsonColumn)
    reason: str = Field(sa_type=sa.Text())
    attempts: int
    failed_at: datetime = Field(sa_type=sa.DateTime(timezone=True), default_factory=utcnow)


INBOX: sa.Table = InboxEntry.__table__  # type: ignore[attr-defined]
DEAD_LETTER: sa.Table = DeadLetter.__table__  # type: ignore[attr-defined]


def create_inbox_tables(engine: sa.Engine) -> None:
    """Create `inbox` and `dead_letter` if missing (tests, SQLite; services use migrations)."""
    SQLModel.metadata.create_all(engine, tables=[INBOX, DEAD_LETTER])


@dataclass
class PollResult:
    """What one poll did: records applied, skipped as duplicates or unhandled, dead-lettered."""

    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def total(self) -> int:
        return self.applied + self.duplicates + self.ignored + self.dead_lettered


class DependencyUnavailable(RuntimeError):
    """Raised by a handler when a service it needs does not answer (connection refused, timeout,
    5xx): the record is retried until the service is back, never parked. The message must name
    the dependency and the failure only (it is logged)."""


class _Unreadable(Exception):
    """The record can never be processed as it is (no retry helps)."""


_SAFE_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\-]{0,63}$")


def _safe(part: object) -> str:
    """A field name or code as it is when it cannot be anything a person wrote, else `?`."""
    if isinstance(part, int):
        return str(part)
    text = str(part)
    return text if _SAFE_TOKEN.match(text) else "?"


def describe_failure(exc: BaseException) -> str:
    """A dead-letter reason that cannot hold personal data: the error type and a reason code
    (an exception's `reason_code` attribute, a database's SQLSTATE), or for validation the
    failing fields and rules. Exception messages are never kept: they may quote the data."""
    if isinstance(exc, ValidationError):
        fields = ", ".join(".".join(_safe(p) for p in e["loc"]) + f" ({_safe(e['type'])})"
                           for e in exc.errors(include_input=False, include_url=False))
        return f"ValidationError: {fields}"[:2000]
    code = getattr(exc, "reason_code", None) or getattr(
        getattr(exc, "orig", None), "sqlstate", None)
    return type(exc).__name__ + (f": {_safe(code)}" if code else "")


class InboxConsumer:
    """Consumes records, applies each event's handler once, commits offsets afterwards."""

    def __init__(self, engine: sa.Engine, consumer_factory: Callable[[], KafkaConsumer],
                 handlers: Mapping[type[Event], Handler], *, name: str,
                 outbox: Outbox | None = None, catalogue: Catalogue = CATALOGUE,
                 max_attempts: int = 5, backoff_seconds: float = 0.2,
                 max_backoff_seconds: float = 10.0, transaction_size: int = 100,
                 dead_letter_producer: KafkaProducer | None = None,
                 dead_letter_topic: str | None = None,
                 tracer_provider: TracerProvider | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """`name` identifies this consumer in the inbox (use the consumer group id).

        Up to `transaction_size` records share one database transaction; if any of them fails,
        that group is rolled back and redone one record per transaction, with retries.
        """
        self.engine = engine
        self.consumer_factory = consumer_factory
        self.handlers = {model.event_type: fn for model, fn in handlers.items()}
        # Families (the type without its `.vN`) this consumer handles: a version of one of
        # them that the catalogue does not know is poison, not someone else's event.
        self._handled_families = {_family(t) for t in self.handlers}
        self.name = name
        self.outbox = outbox or Outbox(source=f"/haven/{name}")
        self.catalogue = catalogue
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.transaction_size = max(1, transaction_size)
        self.dead_letter_producer = dead_letter_producer
        self.dead_letter_topic = dead_letter_topic
        self._tracer = tracer(tracer_provider)
        self._sleep = sleep
        self._consumer: KafkaConsumer | None = None

    @property
    def consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = self.consumer_factory()
        return self._consumer

    def poll_once(self, timeout_ms: int = 1000) -> PollResult:
        """Poll one batch, process every record, then commit the batch's offsets."""
        result = PollResult()
        batch = self.consumer.poll(timeout_ms=timeout_ms)
        records = [r for recs in batch.values() for r in recs]
        if records:
            crash_point("inbox.after-poll")
        for i in range(0, len(records), self.transaction_size):
            for outcome in self._process_group(records[i:i + self.transaction_size]):
                result.add(outcome)
        offsets = {tp: OffsetAndMetadata(recs[-1].offset + 1, "", -1)
                   for tp, recs in batch.items() if recs}
        if offsets:
            # Only now: every record above is committed in the database (or dead-lettered).
            crash_point("inbox.after-db-commit-before-offset-commit")
            self.consumer.commit(offsets)
            crash_point("inbox.after-offset-commit")
        return result

    def run_forever(self, stop: threading.Event, timeout_ms: int = 500) -> None:
        """Consume until `stop` is set; a broken consumer is closed and built again."""
        failures = 0
        while not stop.is_set():
            try:
                self.poll_once(timeout_ms)
                failures = 0
            except DependencyUnavailable as exc:
                # Nothing of this poll past the record is lost: its offset was not committed.
                failures += 1
                log.warning("consumer %s: waiting for a dependency (%s: %s)", self.name,
                            type(exc).__name__, exc)
                self.close()
                stop.wait(min(self.max_backoff_seconds, self.backoff_seconds * 2**failures))
            except Exception as exc:  # noqa: BLE001 - the loop must survive broker trouble
                failures += 1
                log.warning("consumer %s: poll failed (%s)", self.name, type(exc).__name__)
                self.close()
                stop.wait(min(self.max_backoff_seconds, self.backoff_seconds * 2**failures))
        self.close()

    def close(self) -> None:
        """Close the Kafka consumer (a later poll builds a new one)."""
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            finally:
                self._consumer = None

    def replay_dead_letters(self, ids: list[int] | None = None) -> dict[int, str]:
        """Run parked records of this consumer again (all of them, or those in `ids`).

        For the operator, after the cause is fixed. Each record goes through `process` as if
        redelivered.
        The row is removed first: a record that fails again is parked anew (new id), and so is
        one whose handler's dependency is still unavailable (replay it again later).
        Returns dead-letter id → outcome.
        """
        query = sa.select(DEAD_LETTER).where(DEAD_LETTER.c.consumer == self.name)
        if ids is not None:
            query = query.where(DEAD_LETTER.c.id.in_(ids))
        with self.engine.connect() as conn:
            letters = conn.execute(query.order_by(DEAD_LETTER.c.id)).all()
        outcomes: dict[int, str] = {}
        for letter in letters:
            with self.engine.begin() as conn:
                # Forget both markers, so the record is neither skipped nor counted parked.
                conn.execute(DEAD_LETTER.delete().where(DEAD_LETTER.c.id == letter.id))
                if letter.event_id is not None:
                    conn.execute(INBOX.delete().where(INBOX.c.consumer == self.name,
                                                      INBOX.c.event_id == letter.event_id,
                                                      INBOX.c.outcome == "dead-lettered"))
            record = _StoredRecord(letter.topic, letter.partition, letter.offset, letter.key,
                                   letter.value,
                                   [(k, v.encode()) for k, v in letter.headers.items()])
            try:
                outcomes[letter.id] = self.process(record)
            except DependencyUnavailable as exc:
                envelope = Envelope.from_kafka(record.headers, record.value)
                outcomes[letter.id] = self._dead_letter(
                    record, letter.headers, envelope, describe_failure(exc), 1)
        return outcomes

    # ---- records ---------------------------------------------------------------------------

    @contextmanager
    def _span(self, record: Any, headers: dict[str, str]) -> Iterator[trace.Span]:
        with self._tracer.start_as_current_span(
            f"process {record.topic}",
            context=context_from(headers),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.operation.type": "process",
                "messaging.consumer.group.name": self.name,
                "messaging.kafka.destination.partition": record.partition,
                "messaging.kafka.message.offset": record.offset,
            },
        ) as span:
            yield span

    def _read(self, record: Any, span: trace.Span) -> tuple[Envelope, str]:
        """The record's envelope and current event type; raises when unreadable."""
        envelope = Envelope.from_kafka(record.headers, record.value)
        span.set_attribute("messaging.message.id", envelope.id)
        span.set_attribute("cloudevents.event_type", envelope.type)
        current = self.catalogue.current_type(envelope.type)
        if current not in self.handlers and _family(current) in self._handled_families:
            self.catalogue.model_for(current)  # raises UnknownEventType for an unknown version
        return envelope, current

    def _process_group(self, records: list[Any]) -> list[str]:
        if len(records) > 1:
            outcomes = self._together(records)
            if outcomes is not None:
                return outcomes
        return [self.process(r) for r in records]

    def _together(self, records: list[Any]) -> list[str] | None:
        """Apply the records in one transaction; None (all rolled back) if any fails."""
        outcomes: list[str] = []
        with UnitOfWork(self.engine, self.outbox) as uow:
            readable = []
            for record in records:
                try:
                    readable.append((record, *self._read(record, trace.INVALID_SPAN)))
                except (MalformedEvent, UnknownEventType, ValueError):
                    return None  # one record at a time dead-letters it
            ids = [env.id for _, env, current in readable if current in self.handlers]
            done = set(uow.session.execute(sa.select(INBOX.c.event_id).where(
                INBOX.c.consumer == self.name, INBOX.c.event_id.in_(ids))).scalars())
            entries = []
            for record, envelope, current in readable:
                with self._span(record, _header_text(record.headers)) as span:
                    span.set_attribute("messaging.message.id", envelope.id)
                    span.set_attribute("cloudevents.event_type", envelope.type)
                    outcome = "ignored" if current not in self.handlers else (
                        "duplicates" if envelope.id in done else "applied")
                    if outcome == "applied":
                        try:
                            event = self.catalogue.decode(envelope.type, envelope.data)
                            crash_point("inbox.before-effect")
                            self.handlers[current](event, uow)
                            # Into the outbox now, inside this record's span, so the events it
                            # caused carry its trace (the commit comes after every span ended).
                            uow.flush_events()
                        except Exception:  # noqa: BLE001 - redone one by one, with retries
                            return None
                        done.add(envelope.id)
                        entries.append({"consumer": self.name, "event_id": envelope.id,
                                        "event_type": envelope.type, "outcome": "applied",
                                        "processed_at": datetime.now(UTC)})
                    span.set_attribute("haven.outcome", outcome)
                outcomes.append(outcome)
            try:
                if entries:
                    uow.session.execute(INBOX.insert(), entries)
                    crash_point("inbox.after-effect-before-commit")
                uow.commit()
            except sa.exc.DBAPIError:
                return None
        return outcomes

    def process(self, record: Any) -> str:
        """Handle one record in its own transaction(s), with retries and dead-lettering.

        Returns "applied", "duplicates", "ignored" or "dead_lettered".
        """
        headers = _header_text(record.headers)
        with self._span(record, headers) as span:
            outcome = self._process(record, headers, span)
            span.set_attribute("haven.outcome", outcome)
            return outcome

    def _process(self, record: Any, headers: dict[str, str], span: trace.Span) -> str:
        try:
            envelope, current = self._read(record, span)
            if current not in self.handlers:
                return "ignored"
            event = self.catalogue.decode(envelope.type, envelope.data)
        except (MalformedEvent, UnknownEventType, ValidationError, ValueError) as exc:
            return self._dead_letter(record, headers, None, describe_failure(exc), 0)
        handler = self.handlers[current]
        for attempt in range(1, self.max_attempts + 1):
            span.set_attribute("haven.attempt", attempt)
            try:
                return self._apply(envelope, event, handler)
            except DependencyUnavailable as exc:
                span.add_event("dependency unavailable", {"exception.type": type(exc).__name__})
                raise  # not the record's fault: the consumer waits, the record comes again
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then parked
                log.warning("consumer %s: event %s failed attempt %d (%s)", self.name,
                            envelope.id, attempt, type(exc).__name__)
                # The type only: an exception's message may quote personal data.
                span.add_event("exception", {"exception.type": type(exc).__name__})
                if attempt == self.max_attempts:
                    return self._dead_letter(record, headers, envelope, describe_failure(exc),
                                             attempt)
                self._sleep(min(self.max_backoff_seconds,
                                self.backoff_seconds * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")

    def _apply(self, envelope: Envelope, event: Event, handler: Handler) -> str:
        with UnitOfWork(self.engine, self.outbox) as uow:
            if uow.session.get(InboxEntry, (self.name, envelope.id)) is not None:
                return "duplicates"
            crash_point("inbox.before-effect")
            handler(event, uow)
            uow.session.add(InboxEntry(consumer=self.name, event_id=envelope.id,
                                       event_type=envelope.type, outcome="applied"))
            crash_point("inbox.after-effect-before-commit")
            try:
                uow.commit()
            except sa.exc.IntegrityError:
                uow.rollback()
                # Another member of the group applied it meanwhile (rebalance): not a failure.
                if uow.session.get(InboxEntry, (self.name, envelope.id)) is not None:
                    return "duplicates"
                raise
            return "applied"

    def _dead_letter(self, record: Any, headers: dict[str, str], envelope: Envelope | None,
                     reason: str, attempts: int) -> str:
        table = DEAD_LETTER
        with self.engine.begin() as conn:
            already = conn.execute(sa.select(table.c.id).where(
                table.c.consumer == self.name, table.c.topic == record.topic,
                table.c.partition == record.partition, table.c.offset == record.offset)).first()
            if already is None:
                conn.execute(table.insert().values(
                    consumer=self.name, event_id=envelope.id if envelope else None,
                    event_type=envelope.type if envelope else headers.get("ce_type"),
                    topic=record.topic, partition=record.partition, offset=record.offset,
                    key=record.key, value=record.value, headers=headers, reason=reason,
                    attempts=attempts, failed_at=datetime.now(UTC)))
            done = envelope is not None and conn.execute(sa.select(INBOX.c.event_id).where(
                INBOX.c.consumer == self.name, INBOX.c.event_id == envelope.id)).first()
            if envelope is not None and done is None:
                # Marked done, so a redelivery does not run (and fail) the handler again.
                conn.execute(INBOX.insert().values(
                    consumer=self.name, event_id=envelope.id, event_type=envelope.type,
                    outcome="dead-lettered", processed_at=datetime.now(UTC)))
            crash_point("inbox.dead-letter-before-commit")
        crash_point("inbox.dead-letter-after-commit")
        if already is None and self.dead_letter_producer and self.dead_letter_topic:
            self._publish_dead_letter(record, reason)
        log.error("consumer %s: record %s/%d/%d dead-lettered after %d attempts", self.name,
                  record.topic, record.partition, record.offset, attempts)
        return "dead_lettered"

    def _publish_dead_letter(self, record: Any, reason: str) -> None:
        """Copy the record to the dead-letter topic; the table stays the source of truth."""
        assert self.dead_letter_producer is not None and self.dead_letter_topic is not None
        extra = [
            # The error type only: the full reason stays in the access-controlled table.
            ("haven_dlq_reason", reason.split(":", 1)[0].encode()),
            ("haven_dlq_consumer", self.name.encode()),
            ("haven_dlq_origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        try:
            self.dead_letter_producer.send(
                self.dead_letter_topic, key=record.key, value=record.value,
                headers=list(record.headers or []) + extra).get(timeout=30)
        except Exception as exc:  # noqa: BLE001 - the dead-letter row is already committed
            log.warning("consumer %s: dead-letter topic publish failed (%s)", self.name,
                        type(exc).__name__)


@dataclass(frozen=True)
class _StoredRecord:
    """A dead-lettered record, shaped like kafka-python's ConsumerRecord."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _header_text(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in headers or ():
        if v is not None:
            out[k.lower()] = v.decode("utf-8", "replace")
    return out


_VERSION_SUFFIX = re.compile(r"\.v\d+$")


def _family(event_type: str) -> str:
    """`haven.intake.needs.assessed.v2` -> `haven.intake.needs.assessed`."""
    return _VERSION_SUFFIX.sub("", event_type)
