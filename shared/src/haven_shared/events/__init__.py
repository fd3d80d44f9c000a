"""Haven's integration events: CloudEvents 1.0 envelopes around catalogued pydantic bodies.

How a service uses the event backbone (the same way in intake, referral and registry):

1. Define an event body next to the others (or in the service's contract module) and register it:

       @event
       class MissingPersonRecorded(Event):
           event_type = "haven.intake.missing-person.recorded.v1"
           aggregate_type = "case"; aggregate_id_field = "case_id"; topic = "intake.case"
           case_id: UUID
           subject: SealedPersonalData          # personal data only ever sealed
           @classmethod
           def example(cls): ...                # the golden example

   then `uv run python -m haven_shared.events.schemas` to refresh `shared/schemas/`.
   A breaking change is a new `...v2` type plus `@CATALOGUE.upcaster(old, new)`.

2. Write state and events together: `with UnitOfWork(engine, Outbox("/haven/intake")) as uow:
   ...; uow.emit(event); uow.commit()` (`haven_shared.uow`, `haven_shared.outbox`).

3. Publish: `Relay(engine, make_producer(bootstrap)).run_forever(stop)` (`haven_shared.relay`).

4. Consume: `InboxConsumer(engine, lambda: make_consumer(bootstrap, group, topics),
   {MissingPersonRecorded: handler}, name=group, ...).run_forever(stop)` where
   `handler(event, uow)` writes through `uow.session` and never commits (`haven_shared.inbox`).

5. Trace: `setup_telemetry(service, exporter, app=app, engines=[engine])`
   (`haven_shared.telemetry`); the trace id then follows the event through Kafka.
"""

from haven_shared.events import intake as _intake  # noqa: F401  (registers intake events)
from haven_shared.events import referral as _referral  # noqa: F401  (registers referral events)
from haven_shared.events import registry as _registry  # noqa: F401  (registers provider events)
from haven_shared.events import types as _types  # noqa: F401  (registers the shared types)
from haven_shared.events.catalogue import CATALOGUE, Catalogue, UnknownEventType, event
from haven_shared.events.envelope import Envelope, MalformedEvent
from haven_shared.events.model import Event, SealedPersonalData
from haven_shared.events.types import CaseOpened, ProbeRecorded, ProbeRecordedV1

__all__ = [
    "CATALOGUE",
    "CaseOpened",
    "Catalogue",
    "Envelope",
    "Event",
    "MalformedEvent",
    "ProbeRecorded",
    "ProbeRecordedV1",
    "SealedPersonalData",
    "UnknownEventType",
    "event",
]
