"""Projection of registry's provider events into referral's read model."""

from __future__ import annotations

from haven_shared.events.registry import (
    ProviderCapacityChanged,
    ProviderUpserted,
    ProviderWithdrawn,
)
from haven_shared.uow import UnitOfWork
from referral.adapters.repository import ProviderRepository

ProviderEvent = ProviderUpserted | ProviderCapacityChanged | ProviderWithdrawn


def project_provider(event: ProviderEvent, uow: UnitOfWork) -> None:
    """Inbox handler: keep the newest state of the event's service (never commits).

    Every provider event carries the whole state with its version, so upserting when newer is
    the same for all three types, and duplicates or reordering cannot roll the model back.
    """
    ProviderRepository(uow.session).upsert_if_newer(event.provider)


#: Inbox handlers of the provider topic, by event type.
PROVIDER_HANDLERS = {
    ProviderUpserted: project_provider,
    ProviderCapacityChanged: project_provider,
    ProviderWithdrawn: project_provider,
}
