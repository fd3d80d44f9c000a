"""Registry's provider events consumed from the real topic into the read model, exactly once
in effect: replays and older versions arriving late never roll it back."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from referral_builders import provider_state

from haven_shared.events.envelope import Envelope
from haven_shared.events.registry import (
    ProviderCapacityChanged,
    ProviderUpserted,
    ProviderWithdrawn,
)
from haven_shared.inbox import INBOX
from haven_shared.kafka import ensure_topics, make_producer
from haven_shared.testing.kafka_groups import start_group_at_end
from haven_shared.testing.stack import LocalStack
from referral.config import Settings
from referral.domain.routing import ServiceKind
from referral.service_layer.referrals import Deps
from referral.worker import provider_consumer


def test_provider_events_twice_and_out_of_order_leave_the_newest_version(
        stack: LocalStack, referral_settings: Settings, deps: Deps) -> None:
    sid = uuid.uuid4()
    v1 = provider_state("shelter-a", service_id=sid, version=1, available=4)
    v2 = provider_state("shelter-a", service_id=sid, version=2, available=2)
    v3 = provider_state("shelter-a", service_id=sid, version=3, status="withdrawn",
                        available=0)
    first = Envelope.wrap(ProviderUpserted(service_id=sid, provider=v1), "/haven/registry")
    second = Envelope.wrap(ProviderCapacityChanged(service_id=sid, provider=v2),
                           "/haven/registry")
    third = Envelope.wrap(ProviderWithdrawn(service_id=sid, provider=v3), "/haven/registry")
    ensure_topics(stack.kafka_bootstrap, {ProviderUpserted.topic: 3})
    # The topic is shared with every other suite on this broker: start this test's consumer
    # group at the current end, so that only these events reach the session's read model.
    group = f"referral-it-providers-{uuid.uuid4().hex[:8]}"
    start_group_at_end(stack.kafka_bootstrap, group, ProviderUpserted.topic)
    producer = make_producer(stack.kafka_bootstrap)
    # Newest first, then the same event again (a relay publishing twice), then the older ones.
    for env in (third, third, second, first):
        producer.send(ProviderUpserted.topic, key=env.key.encode(), value=env.body(),
                      headers=env.kafka_headers())
    producer.flush(30)
    producer.close()

    engine = deps.uows().engine
    consumer = provider_consumer(engine, referral_settings, group=group)
    deadline = time.monotonic() + 60
    try:
        while True:
            with engine.connect() as conn:
                done = set(conn.execute(sa.select(INBOX.c.event_id).where(
                    INBOX.c.consumer == group)).scalars())
            if {first.id, second.id, third.id} <= done:
                break
            assert time.monotonic() < deadline, "provider events were not consumed"
            consumer.poll_once(500)
    finally:
        consumer.close()

    with deps.uows() as uow:
        row = uow.providers.get(sid)
        assert row is not None
        assert (row.version, row.status, row.capacity) == (3, "withdrawn", 0)
        # A withdrawn service is known to routing, and excluded with its reason.
        shelters = [p for p in uow.providers.of_kind(ServiceKind.SHELTER) if p.provider_id == str(sid)]
    assert not shelters[0].active

