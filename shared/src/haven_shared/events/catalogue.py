"""The catalogue: every event type Haven knows, mapped to its body model, plus upcasters.

A breaking change to an event is a new version (`...v2`) and an upcaster that turns the old
body into the new one. Decoding follows the upcaster chain, so a handler only ever sees the
newest version of an event even when Kafka still holds older ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from haven_shared.events.model import Event

E = TypeVar("E", bound=type[Event])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    """No model is registered for this event type (and no upcaster leads to one)."""


class Catalogue:
    """Event type → body model, and old type → (new type, upcaster)."""

    def __init__(self) -> None:
        self._models: dict[str, type[Event]] = {}
        self._upcasters: dict[str, tuple[str, Upcaster]] = {}

    def register(self, model: E) -> E:
        """Register an event model (usable as a class decorator)."""
        for attr in ("event_type", "aggregate_type", "aggregate_id_field", "topic"):
            if not hasattr(model, attr):
                raise TypeError(f"{model.__name__} must define {attr}")
        if model.aggregate_id_field not in model.model_fields:
            raise TypeError(f"{model.__name__}.{model.aggregate_id_field} is not a field")
        existing = self._models.get(model.event_type)
        if existing is not None and existing is not model:
            raise ValueError(f"event type {model.event_type} is already registered")
        self._models[model.event_type] = model
        return model

    def upcaster(self, old_type: str, new_type: str) -> Callable[[Upcaster], Upcaster]:
        """Register `fn(old_body) -> new_body` turning `old_type` into `new_type` (decorator)."""

        def decorate(fn: Upcaster) -> Upcaster:
            if old_type in self._upcasters:
                raise ValueError(f"{old_type} already has an upcaster")
            self._upcasters[old_type] = (new_type, fn)
            return fn

        return decorate

    def model_for(self, event_type: str) -> type[Event]:
        """The model registered for exactly this type (no upcasting)."""
        try:
            return self._models[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def current_type(self, event_type: str) -> str:
        """The newest type `event_type` upcasts to (itself when it is current)."""
        seen = {event_type}
        while event_type in self._upcasters:
            event_type = self._upcasters[event_type][0]
            if event_type in seen:
                raise ValueError(f"upcaster cycle through {event_type}")
            seen.add(event_type)
        return event_type

    def decode(self, event_type: str, body: dict[str, Any]) -> Event:
        """Upcast `body` to the newest version and validate it into its model."""
        seen = {event_type}
        while event_type in self._upcasters:
            event_type, fn = self._upcasters[event_type]
            if event_type in seen:
                raise ValueError(f"upcaster cycle through {event_type}")
            seen.add(event_type)
            body = fn(dict(body))
        return self.model_for(event_type).model_validate(body)

    def __iter__(self) -> Iterator[type[Event]]:
        return iter(sorted(self._models.values(), key=lambda m: m.event_type))

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._models


#: The catalogue every service uses; event modules register into it at import time.
CATALOGUE = Catalogue()


def event(model: E) -> E:
    """Class decorator registering `model` in the shared `CATALOGUE`."""
    return CATALOGUE.register(model)
