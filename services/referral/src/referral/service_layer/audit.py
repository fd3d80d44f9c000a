"""Audit entries of referral's use cases: who read or changed which case's referrals, why.

Entries name the case (`object_type="case"`, the case id intake also uses), so an auditor asking
about one case finds intake's and referral's entries with the same query; an attempt on a
referral the caller may not see names the referral id instead (the case is not revealed).
People act under their token's subject, roles and organisation; the service itself acts, for
decisions driven by events or the clock, as `system:<what>` with role `system`; a partner
answering on its responses topic acts as `partner:<org>` with role `partner`.

Success entries commit in the action's transaction (`uow.audit`, or `queue` in an inbox
handler); a refusal or failure, whose transaction was rolled back, is recorded apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from haven_shared.audit import AuditLog, AuditRecord, append_at_commit, current_trace_id
from haven_shared.uow import UnitOfWork
from referral.domain.lifecycle import IllegalTransition, ReasonRequired
from referral.domain.offers import NotOffered, OfferClosed
from referral.domain.sharing import ConsentRequired

if TYPE_CHECKING:
    from referral.service_layer.referrals import Actor, Deps
    from referral.service_layer.unit_of_work import ReferralUnitOfWork

CASE = "case"
REFERRAL = "referral"
ORGANISATION = "organisation"
SYSTEM_ROLE = "system"
PARTNER_ROLE = "partner"

#: Domain refusals after access was granted: recorded as `failed`.
FAILURES = (IllegalTransition, ReasonRequired, OfferClosed, NotOffered, ConsentRequired)


class AuditLogMissing(RuntimeError):
    """An action was to be audited but no audit log is wired: refuse rather than lose it."""


def actor_record(actor: Actor, action: str, object_id: object, purpose: str | None = None,
                 outcome: str = "success", object_type: str = CASE) -> AuditRecord:
    """The entry of a person (`actor`) doing `action` to an object (a case by default)."""
    return AuditRecord.model_validate({
        "actor": actor.subject or actor.username, "roles": tuple(sorted(actor.roles)),
        "organisation": actor.org or "unknown", "purpose": purpose, "action": action,
        "object_type": object_type, "object_id": str(object_id), "outcome": outcome,
        "trace_id": current_trace_id(),
    })


def system_record(what: str, organisation: str, action: str, object_id: object,
                  outcome: str = "success", object_type: str = CASE) -> AuditRecord:
    """The entry of a decision the service takes itself (events, clock) for `organisation`."""
    return AuditRecord.model_validate({
        "actor": f"system:{what}", "roles": (SYSTEM_ROLE,), "organisation": organisation,
        "action": action, "object_type": object_type, "object_id": str(object_id),
        "outcome": outcome, "trace_id": current_trace_id(),
    })


def partner_record(org: str, action: str, object_id: object, outcome: str = "success",
                   object_type: str = CASE) -> AuditRecord:
    """The entry of partner `org` answering on its responses topic (the topic names it)."""
    return AuditRecord.model_validate({
        "actor": f"partner:{org}", "roles": (PARTNER_ROLE,), "organisation": org,
        "action": action, "object_type": object_type, "object_id": str(object_id),
        "outcome": outcome, "trace_id": current_trace_id(),
    })


def require(log: AuditLog | None) -> AuditLog:
    if log is None:
        raise AuditLogMissing("referral has no audit log wired")
    return log


def queue(deps: Deps, uow: UnitOfWork, record: AuditRecord) -> None:
    """Append `record` when `uow`'s transaction commits (handlers that do not commit)."""
    append_at_commit(require(deps.audit), uow.session, record)


@contextmanager
def audited(deps: Deps, actor: Actor, action: str, object_id: object,
            purpose: str | None = None, object_type: str = REFERRAL
            ) -> Iterator[ReferralUnitOfWork]:
    """A unit of work for a person's action; the handler queues the success entry (naming the
    case once it is loaded) with `uow.audit`. A refusal (not found, not theirs) is recorded
    apart as `denied`, a domain failure as `failed`, both on `object_id` of `object_type`."""
    from referral.service_layer.referrals import ReferralNotFound

    uow = deps.uows()
    try:
        with uow:
            yield uow
    except ReferralNotFound:
        _apart(deps, uow, actor_record(actor, action, object_id, purpose, "denied",
                                       object_type))
        raise
    except FAILURES:
        _apart(deps, uow, actor_record(actor, action, object_id, purpose, "failed",
                                       object_type))
        raise


def _apart(deps: Deps, uow: UnitOfWork, record: AuditRecord) -> None:
    require(deps.audit).append_committed(uow.engine, record)
