"""Domain errors; the API maps each to one problem+json status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of intake's domain errors. Messages never carry submitted values."""


class InvalidField(DomainError):
    """A submitted value breaks a rule; `field` names it (dotted path), never its value."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


class CaseNotFound(DomainError):
    """No such case, or one the actor may not see (the two are indistinguishable)."""


class RecordNotFound(DomainError):
    """No such record on this case (or not visible to the actor)."""


class NotPermitted(DomainError):
    """The actor may not perform this action (e.g. minors' records without child protection)."""


class InvalidTransition(DomainError):
    """The change is not allowed from the current state."""


class IdempotencyConflict(DomainError):
    """The idempotency key was already used for a different request."""
