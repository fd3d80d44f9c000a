"""Intake's background work: the outbox relay, and the consumer of referral and match
outcomes that keeps the case views up to date.

Runs inside the API process (`bootstrap` starts it with the app when `embedded_worker` is on)
or on its own: `python -m intake.worker`.
"""

from __future__ import annotations

import logging
import signal
import threading

import sqlalchemy as sa
from opentelemetry.sdk.trace import TracerProvider

from haven_shared.db import make_engine
from haven_shared.events import CATALOGUE
from haven_shared.inbox import Handler, InboxConsumer
from haven_shared.kafka import ensure_topics, make_consumer, make_producer
from haven_shared.relay import Relay
from intake.adapters.schema import create_schema
from intake.config import Settings
from intake.service_layer.outcomes import (
    on_family_notification,
    on_match_event,
    on_referral_event,
)

log = logging.getLogger(__name__)
PRODUCED_TOPICS = ("intake.case",)
# Looked up in the catalogue by type, so intake depends on the contracts, not on their modules.
OUTCOME_HANDLERS: dict[str, Handler] = {
    "haven.referral.requested.v1": on_referral_event,
    "haven.referral.offered.v1": on_referral_event,
    "haven.referral.status.changed.v1": on_referral_event,
    "haven.registry.match.proposed.v1": on_match_event,
    "haven.registry.family-link.restored.v1": on_match_event,
    "haven.registry.identification.confirmed.v1": on_match_event,
    "haven.registry.match.rejected.v1": on_match_event,
    "haven.registry.match.withdrawn.v1": on_match_event,
    "haven.registry.family-notification.requested.v1": on_family_notification,
    "haven.registry.family-notification.updated.v1": on_family_notification,
}


def outcome_handlers() -> dict[type, Handler]:
    """The handlers whose event types the catalogue knows, by event model."""
    return {CATALOGUE.model_for(t): fn for t, fn in OUTCOME_HANDLERS.items() if t in CATALOGUE}


class IntakeWorker:
    """Threads that move events between intake's database and Kafka."""

    def __init__(self, settings: Settings, engine: sa.Engine, *,
                 tracer_provider: TracerProvider | None = None) -> None:
        self.settings = settings
        self.engine = engine
        # The app's provider: relay and consumer spans go to the app's own exporter.
        self.tracer_provider = tracer_provider
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the relay and the outcome consumer in daemon threads."""
        for target, name in ((self._relay, "intake-relay"), (self._consume, "intake-outcomes")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every thread to stop and wait for them."""
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout)

    def _relay(self) -> None:
        while not self.stop_event.is_set():
            try:
                # Brokers do not auto-create topics; keep trying while Kafka is down.
                ensure_topics(self.settings.kafka_bootstrap,
                              dict.fromkeys(PRODUCED_TOPICS, self.settings.topic_partitions),
                              security=self.settings.kafka_security)
                producer = make_producer(self.settings.kafka_bootstrap, client_id="intake-relay",
                                         security=self.settings.kafka_security)
                break
            except Exception as exc:  # noqa: BLE001 - retried until Kafka answers
                log.warning("intake relay cannot reach Kafka yet (%s)", type(exc).__name__)
                self.stop_event.wait(2.0)
        else:
            return
        try:
            Relay(self.engine, producer, idle_seconds=0.1,
                  tracer_provider=self.tracer_provider).run_forever(self.stop_event)
        finally:
            producer.close(timeout=5)


    def _consume(self) -> None:
        handlers = outcome_handlers()
        topics = sorted({model.topic for model in handlers})
        if not topics:
            return
        while not self.stop_event.is_set():
            try:
                # Subscribing to a missing topic would only see it after a metadata refresh.
                ensure_topics(self.settings.kafka_bootstrap,
                              dict.fromkeys(topics, self.settings.topic_partitions),
                              security=self.settings.kafka_security)
                break
            except Exception as exc:  # noqa: BLE001 - retried until Kafka answers
                log.warning("intake consumer cannot reach Kafka yet (%s)", type(exc).__name__)
                self.stop_event.wait(2.0)
        bootstrap, group = self.settings.kafka_bootstrap, self.settings.outcome_consumer_group
        options = {**self.settings.kafka_consumer_options, **self.settings.kafka_security}
        InboxConsumer(
            self.engine, lambda: make_consumer(bootstrap, group, topics,
                                               client_id="intake-outcomes", **options),
            handlers, name=group, tracer_provider=self.tracer_provider,
        ).run_forever(self.stop_event)


def main() -> None:
    """Run the worker until SIGINT/SIGTERM."""
    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    worker = IntakeWorker(settings, engine)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop_event.set())
    worker.start()
    try:
        worker.stop_event.wait()
    except KeyboardInterrupt:
        pass
    worker.stop()


if __name__ == "__main__":
    main()
