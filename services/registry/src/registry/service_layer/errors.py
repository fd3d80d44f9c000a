"""Errors of the registry's use cases (the API maps them to problem+json in one place)."""

from __future__ import annotations


class UseCaseError(Exception):
    """A use case refused; the message is safe to show (it quotes no submitted value)."""


class NotFoundError(UseCaseError):
    """The object does not exist (or the caller may not know that it does)."""


class AlreadyExists(UseCaseError):
    """An object with this id exists already."""


class NotYourService(UseCaseError):
    """The caller's organisation does not run this service."""


class OrganisationMismatch(UseCaseError):
    """A service cannot move to another organisation."""
