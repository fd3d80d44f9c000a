"""Background work of the referral process: the outbox relay (internal and partner topics), the
consumers of registry's provider events, partners' answers and intake's case events, and the
clock tick (escalation of overdue offers, deadline alerts), and the audit chain's periodic
signed checkpoints."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from opentelemetry.sdk.trace import TracerProvider

from haven_shared.audit import CheckpointJob
from haven_shared.events.intake import TOPIC as INTAKE_TOPIC
from haven_shared.events.intake import (
    ConsentGiven,
    ConsentWithdrawn,
    DataSubjectErased,
    NeedsAssessed,
    VictimPresumed,
)
from haven_shared.events.referral import (
    TOPIC,
    PartnerReferralAnswered,
)
from haven_shared.events.registry import ProviderUpserted
from haven_shared.inbox import InboxConsumer
from haven_shared.kafka import ensure_topics, make_consumer, make_producer
from haven_shared.outbox import Outbox
from haven_shared.relay import Relay
from referral.adapters.partner_topics import (
    RESPONSES_PATTERN,
    PartnerTopics,
    TopicStampedConsumer,
)
from referral.config import Settings
from referral.service_layer.assessments import consent_given_handler, needs_assessed_handler
from referral.service_layer.audit import require
from referral.service_layer.consent import consent_withdrawn_handler
from referral.service_layer.deadlines import alert_tick, reflection_handler
from referral.service_layer.erasure import subject_erased_handler
from referral.service_layer.partner_responses import answer_handler
from referral.service_layer.providers import PROVIDER_HANDLERS
from referral.service_layer.referrals import Deps, escalate_overdue
from referral.service_layer.unit_of_work import SOURCE

log = logging.getLogger(__name__)


def _retrying(name: str, stop: threading.Event, body: Callable[[], None]) -> None:
    """Run `body` until `stop`, waiting with backoff while Kafka is unreachable."""
    delay = 0.5
    while not stop.is_set():
        try:
            body()
            delay = 0.5
        except Exception as exc:  # noqa: BLE001 - Kafka may come up later; keep trying
            log.warning("%s cannot reach Kafka yet (%s)", name, type(exc).__name__)
            stop.wait(delay)
            delay = min(30.0, delay * 2)


class ReferralWorker:
    """Runs the relay and the provider consumer in daemon threads."""

    def __init__(self, settings: Settings, engine: sa.Engine, deps: Deps,
                 clock: Callable[[], datetime],
                 tracer_provider: TracerProvider | None = None) -> None:
        self.settings = settings
        # Relay and consumer spans go to the service's own provider (its span file), not to
        # whichever provider the process made global.
        self.tracer_provider = tracer_provider
        self.engine = engine
        self.deps = deps
        self.clock = clock
        self.stop_event = threading.Event()
        # Set by the relay when it created a partner's topics; the responses consumer then
        # subscribes to the new responses topic at once.
        self.partner_topics_changed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._checkpoints: CheckpointJob | None = None

    def start(self) -> None:
        """Start what the settings enable."""
        if self.settings.relay_enabled:
            self._spawn("referral-outbox-relay", self._relay)
        if self.settings.provider_consumer_enabled:
            self._spawn("referral-provider-consumer", self._consume)
        if self.settings.partner_responses_enabled:
            self._spawn("referral-partner-responses", self._responses)
        if self.settings.intake_consumer_enabled:
            self._spawn("referral-intake-consumer", self._intake)
        if self.settings.escalation_interval_seconds > 0:
            self._spawn("referral-escalation", self._escalate)
        if self.settings.audit_checkpoint_interval_seconds > 0:
            file = self.settings.audit_checkpoints_file
            self._checkpoints = CheckpointJob(
                self.engine, require(self.deps.audit),
                self.settings.audit_checkpoint_interval_seconds,
                export_to=Path(file) if file else None).start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the threads to stop and wait for them."""
        self.stop_event.set()
        if self._checkpoints is not None:
            self._checkpoints.stop(timeout)
        for t in self._threads:
            if t.is_alive():
                t.join(timeout)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        t = threading.Thread(target=_retrying, args=(name, self.stop_event, target),
                             name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def _relay(self) -> None:
        s = self.settings
        ensure_topics(s.kafka_bootstrap, {TOPIC: s.topic_partitions}, security=s.kafka_security)
        producer = make_producer(s.kafka_bootstrap, client_id="referral-relay",
                                 security=s.kafka_security)
        try:
            Relay(self.engine, producer,
                  topic_for=PartnerTopics(s.kafka_bootstrap, s.topic_partitions,
                                          security=s.kafka_security,
                                          on_new_topics=self.partner_topics_changed.set),
                  tracer_provider=self.tracer_provider,
                  idle_seconds=s.relay_idle_seconds).run_forever(self.stop_event)
        finally:
            producer.close(timeout=5)

    def _consume(self) -> None:
        s = self.settings
        ensure_topics(s.kafka_bootstrap, {ProviderUpserted.topic: s.topic_partitions},
                      security=s.kafka_security)
        consumer = provider_consumer(self.engine, s, tracer_provider=self.tracer_provider)
        consumer.run_forever(self.stop_event)


    def _responses(self) -> None:
        partner_response_consumer(self.engine, self.settings, self.deps, self.clock,
                                  topics_changed=self.partner_topics_changed,
                                  tracer_provider=self.tracer_provider
                                  ).run_forever(self.stop_event)

    def _intake(self) -> None:
        s = self.settings
        ensure_topics(s.kafka_bootstrap, {INTAKE_TOPIC: s.topic_partitions},
                      security=s.kafka_security)
        intake_consumer(self.engine, s, self.deps, self.clock,
                        tracer_provider=self.tracer_provider).run_forever(self.stop_event)

    def _escalate(self) -> None:
        while not self.stop_event.is_set():
            now = self.clock()
            escalate_overdue(self.deps, now)
            alert_tick(self.deps.uows, now, self.settings.alert_offsets())
            self.stop_event.wait(self.settings.escalation_interval_seconds)


def provider_consumer(engine: sa.Engine, settings: Settings, group: str | None = None,
                      tracer_provider: TracerProvider | None = None) -> InboxConsumer:
    """The inbox consumer projecting `registry.provider` into the read model."""
    group = group or settings.consumer_group
    return InboxConsumer(
        engine,
        lambda: make_consumer(settings.kafka_bootstrap, group, [ProviderUpserted.topic],
                              client_id="referral-providers",
                              **settings.kafka_consumer_options, **settings.kafka_security),
        PROVIDER_HANDLERS, name=group, outbox=Outbox(SOURCE), tracer_provider=tracer_provider)


def intake_consumer(engine: sa.Engine, settings: Settings, deps: Deps,
                    clock: Callable[[], datetime], group: str | None = None,
                    tracer_provider: TracerProvider | None = None) -> InboxConsumer:
    """The inbox consumer of intake's case events: assessed needs are referred once consent
    covers them, consent withdrawals stop referrals, a presumed victim's reflection period
    starts."""
    group = group or f"{settings.consumer_group}-intake"
    return InboxConsumer(
        engine,
        lambda: make_consumer(settings.kafka_bootstrap, group, [INTAKE_TOPIC],
                              client_id="referral-intake",
                              **settings.kafka_consumer_options, **settings.kafka_security),
        {ConsentWithdrawn: consent_withdrawn_handler(deps, clock),
         DataSubjectErased: subject_erased_handler(deps, clock),
         ConsentGiven: consent_given_handler(deps, clock),
         NeedsAssessed: needs_assessed_handler(deps, clock),
         VictimPresumed: reflection_handler(settings.reflection_days, deps.audit)},
        name=group, outbox=Outbox(SOURCE), tracer_provider=tracer_provider)


def partner_response_consumer(engine: sa.Engine, settings: Settings, deps: Deps,
                              clock: Callable[[], datetime], group: str | None = None,
                              topics_changed: threading.Event | None = None,
                              tracer_provider: TracerProvider | None = None
                              ) -> InboxConsumer:
    """The inbox consumer applying answers from every `partner.<org>.responses` topic (new
    ones within `topic_discovery_ms`, or at once when `topics_changed` is set)."""
    group = group or f"{settings.consumer_group}-partner-responses"

    def factory() -> Any:
        consumer = make_consumer(settings.kafka_bootstrap, group, client_id="referral-responses",
                                 metadata_max_age_ms=settings.topic_discovery_ms,
                                 **settings.kafka_consumer_options,
                                 **settings.kafka_security)
        consumer.subscribe(pattern=RESPONSES_PATTERN)
        return TopicStampedConsumer(consumer, topics_changed)

    return InboxConsumer(engine, factory, {PartnerReferralAnswered: answer_handler(deps, clock)},
                         name=group, outbox=Outbox(SOURCE),
                         tracer_provider=tracer_provider)
