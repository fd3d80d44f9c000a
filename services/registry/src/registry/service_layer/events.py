"""Translation of the directory's domain events into catalogue (integration) events."""

from __future__ import annotations

from typing import Any

from haven_shared.events.model import Event
from haven_shared.events.registry import (
    FamilyLinkRestored,
    FamilyNotificationRequested,
    FamilyNotificationUpdated,
    IdentificationConfirmed,
    MatchFieldEvidence,
    MatchProposed,
    MatchRejected,
    MatchWithdrawn,
    ProviderArea,
    ProviderCapacity,
    ProviderCapacityChanged,
    ProviderEligibility,
    ProviderLocation,
    ProviderOpeningHours,
    ProviderServiceState,
    ProviderUpserted,
    ProviderWithdrawn,
)
from registry.domain import family_notification as notification
from registry.domain import match_review as review
from registry.domain.directory import (
    CapacityChanged,
    ProviderService,
    ServiceUpserted,
    ServiceWithdrawnEvent,
)


def provider_state(service: ProviderService) -> ProviderServiceState:
    """The routing state of a service, as every provider event carries it."""
    d, e, cap = service.details, service.details.eligibility, service.capacity
    return ProviderServiceState(
        service_id=service.id,
        organisation_id=service.organisation.id,
        organisation_code=service.organisation.code,
        organisation_name=service.organisation.name,
        name=d.name,
        kind=d.kind.value,
        status=d.status.value,
        eligibility=ProviderEligibility(
            genders=sorted(g.value for g in e.genders), minimum_age=e.minimum_age,
            maximum_age=e.maximum_age, women_only=e.women_only,
            child_qualified=e.child_qualified),
        languages=list(d.languages),
        locations=[ProviderLocation(location_id=loc.id, name=loc.name, city=loc.city,
                                    region=loc.region, country=loc.country,
                                    latitude=loc.latitude, longitude=loc.longitude)
                   for loc in d.locations],
        areas=[ProviderArea(area_id=a.id, name=a.name, extent=a.extent,
                            extent_type=a.extent_type) for a in d.areas],
        opening_hours=[ProviderOpeningHours(day=h.day.value,
                                            opens_at=h.opens_at.isoformat("minutes"),
                                            closes_at=h.closes_at.isoformat("minutes"))
                       for h in d.opening_hours],
        capacity=ProviderCapacity(unit=cap.unit, available=cap.available, maximum=cap.maximum,
                                  updated_at=cap.updated_at) if cap else None,
        version=service.version,
        changed_at=service.changed_at,
    )


def translate(domain_event: Any) -> Event | None:
    """The integration event of a directory domain event (UnitOfWork's `translate`)."""
    if isinstance(domain_event, Event):
        return domain_event
    if isinstance(domain_event, ServiceUpserted):
        s = domain_event.service
        return ProviderUpserted(service_id=s.id, provider=provider_state(s))
    if isinstance(domain_event, CapacityChanged):
        s = domain_event.service
        return ProviderCapacityChanged(service_id=s.id, provider=provider_state(s),
                                       previous_available=domain_event.previous_available)
    if isinstance(domain_event, ServiceWithdrawnEvent):
        s = domain_event.service
        return ProviderWithdrawn(service_id=s.id, provider=provider_state(s),
                                 reason=domain_event.reason)
    if isinstance(domain_event, review.MatchProposed | review.MatchConfirmed
                  | review.MatchRejected | review.MatchClosed):
        return _match_event(domain_event)
    if isinstance(domain_event, notification.NotificationOpened | notification.NotificationMoved):
        t = domain_event.task
        model = (FamilyNotificationRequested
                 if isinstance(domain_event, notification.NotificationOpened)
                 else FamilyNotificationUpdated)
        return model(task_id=t.id, candidate_id=t.candidate_id, kind=t.kind.value,
                     record_ref=t.record_ref, organisation_id=t.organisation_id,
                     state=t.state.value, changed_at=t.changed_at)
    raise TypeError(f"no integration event for {type(domain_event).__name__}")


def _match_event(domain_event: Any) -> Event:
    c: review.MatchCandidate = domain_event.candidate
    refs: dict[str, Any] = dict(candidate_id=c.id, record_ref=c.record_ref,
                                record_kind=c.record_kind, candidate_ref=c.candidate_ref,
                                candidate_kind=c.candidate_kind)
    if isinstance(domain_event, review.MatchProposed):
        return MatchProposed(**refs, probability=c.probability, weight=c.weight,
                             proposed_at=c.proposed_at,
                             explanation=[MatchFieldEvidence(**vars(e)) for e in c.evidence])
    if isinstance(domain_event, review.MatchClosed):
        return MatchWithdrawn(**refs, withdrawn_at=domain_event.at)
    last = c.reviews[-1]
    if isinstance(domain_event, review.MatchRejected):
        return MatchRejected(**refs, rejected_at=last.at)
    if c.involves_remains:
        return IdentificationConfirmed(**refs, confirmed_at=last.at,
                                       reviewer_orgs=[r.org for r in c.reviews])
    return FamilyLinkRestored(**refs, confirmed_at=last.at, reviewer_org=last.org)
