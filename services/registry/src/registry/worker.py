"""Background work of the registry process: the outbox relay publishing to Kafka, and the
person index's consumer of intake's tracing events."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

import sqlalchemy as sa
from opentelemetry.sdk.trace import TracerProvider

from haven_shared.events.model import Event
from haven_shared.events.registry import MatchProposed, ProviderUpserted
from haven_shared.inbox import Handler, InboxConsumer
from haven_shared.kafka import ensure_topics, make_consumer, make_producer
from haven_shared.outbox import Outbox
from haven_shared.relay import Relay
from registry.config import Settings

log = logging.getLogger(__name__)

#: Topics registry produces to (created at start-up when missing; brokers do not auto-create).
PRODUCED_TOPICS = (ProviderUpserted.topic, MatchProposed.topic)


class _BackgroundThread:
    """One daemon thread running `_run` until `stop()` sets the stop event."""

    name = "registry-worker"

    def __init__(self, settings: Settings, engine: sa.Engine, *,
                 tracer_provider: TracerProvider | None = None) -> None:
        self.settings = settings
        self.engine = engine
        # The app's provider: its spans go where the app's settings say (one file per service
        # even when several apps share a process).
        self.tracer_provider = tracer_provider
        self.stop_event = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        """Start the work in the background."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the work to stop and wait for it."""
        self.stop_event.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError


class OutboxRelayThread(_BackgroundThread):
    """Runs the outbox relay in a daemon thread, waiting for Kafka if it is not up yet."""

    name = "registry-outbox-relay"

    def _run(self) -> None:
        delay = 0.5
        while not self.stop_event.is_set():
            try:
                ensure_topics(self.settings.kafka_bootstrap,
                              dict.fromkeys(PRODUCED_TOPICS, self.settings.topic_partitions),
                              security=self.settings.kafka_security)
                producer = make_producer(self.settings.kafka_bootstrap,
                                         client_id="registry-relay",
                                         security=self.settings.kafka_security)
            except Exception as exc:  # noqa: BLE001 - Kafka may come up later; keep trying
                log.warning("outbox relay cannot reach Kafka yet (%s)", type(exc).__name__)
                self.stop_event.wait(delay)
                delay = min(30.0, delay * 2)
                continue
            try:
                Relay(self.engine, producer, idle_seconds=self.settings.relay_idle_seconds,
                      tracer_provider=self.tracer_provider).run_forever(self.stop_event)
            finally:
                producer.close(timeout=5)


class PersonIndexConsumerThread(_BackgroundThread):
    """Runs the person index's inbox consumer of intake's tracing events in a daemon thread."""

    name = "registry-person-index"

    def __init__(self, settings: Settings, engine: sa.Engine,
                 handlers: Mapping[type[Event], Handler], source: str, *,
                 tracer_provider: TracerProvider | None = None) -> None:
        super().__init__(settings, engine, tracer_provider=tracer_provider)
        self.handlers = handlers
        self.source = source

    def _run(self) -> None:
        topics = sorted({model.topic for model in self.handlers})
        delay = 0.5
        while not self.stop_event.is_set():
            try:
                # Subscribing to a missing topic would only see it after a metadata refresh.
                ensure_topics(self.settings.kafka_bootstrap,
                              dict.fromkeys(topics, self.settings.topic_partitions),
                              security=self.settings.kafka_security)
                break
            except Exception as exc:  # noqa: BLE001 - Kafka may come up later; keep trying
                log.warning("person index cannot reach Kafka yet (%s)", type(exc).__name__)
                self.stop_event.wait(delay)
                delay = min(30.0, delay * 2)
        bootstrap, group = self.settings.kafka_bootstrap, self.settings.index_consumer_group
        options = {**self.settings.kafka_consumer_options, **self.settings.kafka_security}
        InboxConsumer(
            self.engine, lambda: make_consumer(bootstrap, group, topics,
                                               client_id="registry-person-index", **options),
            self.handlers, name=group, outbox=Outbox(self.source),
            tracer_provider=self.tracer_provider,
        ).run_forever(self.stop_event)
