"""Referral's domain and use-case errors → problem+json, in this one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from haven_shared.errors import problem
from referral.adapters.repository import ConcurrentUpdate
from referral.domain.lifecycle import IllegalTransition, ReasonRequired
from referral.domain.offers import NotOffered, OfferClosed
from referral.domain.sharing import ConsentRequired
from referral.service_layer.referrals import IdempotencyConflict, ReferralNotFound

# Details are fixed texts or the domain's own messages, which name states, never personal data.
_STATUS: list[tuple[type[Exception], int, str, str, str | None]] = [
    (ReferralNotFound, 404, "Not found", "not-found", "No such referral."),
    (IllegalTransition, 409, "Conflict", "illegal-transition", None),
    (OfferClosed, 409, "Conflict", "offer-closed",
     "The offer is no longer open (taken, expired or withdrawn)."),
    (NotOffered, 409, "Conflict", "not-accepted-by-you",
     "Only the organisation that accepted the referral may do this."),
    (ConcurrentUpdate, 409, "Conflict", "concurrent-update",
     "The referral changed meanwhile; read it again."),
    (IdempotencyConflict, 409, "Conflict", "idempotency-key-reused", None),
    (ConsentRequired, 422, "Consent required", "consent-required", None),
    (ReasonRequired, 422, "Invalid input", "invalid-input", None),
]


def install_domain_errors(app: FastAPI) -> None:
    """Register the mapping of referral's errors on `app`."""
    for exc_type, status, title, slug, fixed in _STATUS:
        def handler(request: Request, exc: Exception, status: int = status, title: str = title,
                    slug: str = slug, fixed: str | None = fixed) -> JSONResponse:
            return problem(status, title, fixed or str(exc), slug, request.url.path)

        app.add_exception_handler(exc_type, handler)
