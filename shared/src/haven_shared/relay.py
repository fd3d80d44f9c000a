"""Outbox relay: publishes unsent outbox rows to Kafka and marks them sent.

    relay = Relay(engine, make_producer(bootstrap, client_id="intake-relay"))
    relay.run_forever(stop_event)        # in the service's worker process
    relay.run_once()                     # one batch; returns how many rows it published

Guarantees:
- at least once: a row is marked sent only after Kafka acknowledged it (`acks=all`); a crash in
  between publishes it again, and the inbox drops the duplicate by its CloudEvents id;
- in order per aggregate: rows are published in `seq` order, and a relay only publishes an
  aggregate's rows when they are the oldest unsent rows of that aggregate;
- concurrent relays on PostgreSQL share the work without publishing a row twice: each claims a
  batch with `FOR UPDATE SKIP LOCKED` and holds the row locks until it has marked them sent;
- on SQLite (no row locks) a relay takes the database's write lock before it reads, so relays
  take turns.

Per-aggregate order is `seq` order, which is commit order: on PostgreSQL `Outbox.add_all` holds
an advisory lock per aggregate until commit, so writers of one aggregate take turns.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from kafka import KafkaProducer
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from haven_shared.events.catalogue import CATALOGUE, Catalogue, UnknownEventType
from haven_shared.faults import crash_point
from haven_shared.outbox import OutboxMessage
from haven_shared.telemetry import context_from, current_trace_headers, tracer

log = logging.getLogger(__name__)
OUTBOX: sa.Table = OutboxMessage.__table__  # type: ignore[attr-defined]

TopicFor = Callable[[Any], str]


def catalogue_topic(catalogue: Catalogue = CATALOGUE) -> TopicFor:
    """Route a row to its event type's topic; unknown types go to their aggregate type."""

    def topic_for(row: Any) -> str:
        try:
            return catalogue.model_for(row.type).topic
        except UnknownEventType:
            return str(row.aggregatetype)

    return topic_for


class Relay:
    """Moves events from one database's outbox to Kafka."""

    def __init__(self, engine: sa.Engine, producer: KafkaProducer, *,
                 topic_for: TopicFor | str | None = None, batch_size: int = 500,
                 idle_seconds: float = 0.2, send_timeout: float = 30.0,
                 tracer_provider: TracerProvider | None = None) -> None:
        """`topic_for` maps a row to its topic (a fixed name, or by default the catalogue's)."""
        self.engine = engine
        self.producer = producer
        if isinstance(topic_for, str):
            fixed = topic_for
            self.topic_for: TopicFor = lambda _row: fixed
        else:
            self.topic_for = topic_for or catalogue_topic()
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.send_timeout = send_timeout
        self._tracer = tracer(tracer_provider)
        self._sqlite = engine.dialect.name == "sqlite"

    def run_once(self) -> int:
        """Publish at most one batch; return how many rows were published and marked sent."""
        with self.engine.begin() as conn:
            if self._sqlite:
                # A write statement takes SQLite's single write lock now instead of at the
                # final UPDATE, so a second relay cannot read the same rows meanwhile.
                conn.execute(OUTBOX.update().where(sa.false()).values(sent_at=None))
            rows = conn.execute(
                sa.select(OUTBOX)
                .where(OUTBOX.c.sent_at.is_(None))
                .order_by(OUTBOX.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            ready = self._heads(conn, rows)
            crash_point("relay.after-claim")
            sent = self._publish(ready)
            crash_point("relay.after-publish-before-mark-sent")
            if sent:
                conn.execute(OUTBOX.update().where(OUTBOX.c.seq.in_(sent))
                             .values(sent_at=datetime.now(UTC)))
                crash_point("relay.after-mark-sent-before-commit")
        if sent:
            crash_point("relay.after-mark-sent")
        return len(sent)

    def drain(self, max_batches: int = 10_000) -> int:
        """Publish until nothing is left that this relay may publish; return the count."""
        total = 0
        for _ in range(max_batches):
            n = self.run_once()
            if n == 0:
                break
            total += n
        return total

    def run_forever(self, stop: threading.Event) -> None:
        """Publish until `stop` is set, idling briefly when the outbox is empty."""
        failures = 0
        while not stop.is_set():
            try:
                n = self.run_once()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - keep relaying; the batch is retried
                failures += 1
                # Type only: messages of database or Kafka errors may quote row contents.
                log.warning("outbox relay batch failed (%s), retrying", type(exc).__name__)
                stop.wait(min(30.0, self.idle_seconds * 2**failures))
                continue
            if n < self.batch_size:
                stop.wait(self.idle_seconds)

    def purge_sent(self, older_than: datetime) -> int:
        """Delete rows sent before `older_than` (the topic keeps the history)."""
        with self.engine.begin() as conn:
            result = conn.execute(OUTBOX.delete().where(OUTBOX.c.sent_at < older_than))
            return int(result.rowcount or 0)

    # ---- internals -------------------------------------------------------------------------

    def _heads(self, conn: sa.Connection, rows: Sequence[Any]) -> list[Any]:
        """The claimed rows that are the oldest unsent rows of their aggregate.

        Another relay may hold an older row of the same aggregate (locked, so we skipped it);
        publishing ours first would reorder that aggregate, so those wait for a later batch.
        """
        aggregates = {r.aggregateid for r in rows}
        unsent: dict[str, list[int]] = defaultdict(list)
        for agg, seq in conn.execute(
            sa.select(OUTBOX.c.aggregateid, OUTBOX.c.seq)
            .where(OUTBOX.c.sent_at.is_(None), OUTBOX.c.aggregateid.in_(aggregates),
                   OUTBOX.c.seq <= rows[-1].seq)
            .order_by(OUTBOX.c.seq)
        ):
            unsent[agg].append(seq)
        position: dict[str, int] = defaultdict(int)
        blocked: set[str] = set()
        ready = []
        for row in rows:  # in seq order
            agg = row.aggregateid
            if agg in blocked:
                continue
            expected = unsent[agg]
            i = position[agg]
            if i < len(expected) and expected[i] == row.seq:
                ready.append(row)
                position[agg] = i + 1
            else:
                blocked.add(agg)
        return ready

    def _publish(self, rows: Sequence[Any]) -> list[int]:
        """Send `rows`, wait for the acknowledgements; return seqs safe to mark sent."""
        futures = []
        for row in rows:
            topic = self.topic_for(row)
            headers: dict[str, str] = dict(row.headers)
            with self._tracer.start_as_current_span(
                f"publish {topic}",
                context=context_from(headers),
                kind=trace.SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": topic,
                    "messaging.operation.type": "send",
                    "messaging.message.id": headers.get("ce_id", ""),
                    "cloudevents.event_type": row.type,
                    "haven.aggregate_type": row.aggregatetype,
                },
            ):
                # The consumer's span becomes a child of this producer span.
                trace_headers = current_trace_headers()
                if "traceparent" in trace_headers:
                    headers.update(trace_headers)
                    headers["ce_traceparent"] = trace_headers["traceparent"]
                crash_point("relay.before-publish")
                futures.append(self.producer.send(
                    topic,
                    key=row.aggregateid.encode(),
                    value=json.dumps(row.payload, separators=(",", ":"),
                                     ensure_ascii=False).encode(),
                    headers=[(k, v.encode()) for k, v in headers.items()],
                ))
        self.producer.flush(timeout=self.send_timeout)
        sent: list[int] = []
        failed: set[str] = set()
        for row, future in zip(rows, futures, strict=True):
            # After a failure, later rows of that aggregate are not marked sent either, so a
            # retry republishes them after the failed one (duplicates are dropped downstream).
            if row.aggregateid in failed:
                continue
            if future.is_done and future.succeeded():
                sent.append(row.seq)
            else:
                failed.add(row.aggregateid)
        if failed:
            log.warning("relay: %d aggregates had unacknowledged events", len(failed))
        return sent
