"""Object-level authorisation: who may see and change which case. Deny by default."""

from __future__ import annotations

from dataclasses import dataclass

from intake.domain.errors import NotPermitted

CASE_ROLES = frozenset({"caseworker", "supervisor"})
CHILD_PROTECTION = "child_protection"
DECISION_ROLES = frozenset({"supervisor"})


@dataclass(frozen=True)
class Actor:
    """The person acting: their id, organisation and Haven roles (mapped from the token)."""

    subject: str
    username: str
    org: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        """Whether the actor holds `role`."""
        return role in self.roles


def may_see(actor: Actor, organisation_id: str, is_minor: bool) -> bool:
    """Caseworkers and supervisors of the owning organisation; minors need child protection."""
    if actor.org != organisation_id or not actor.roles & CASE_ROLES:
        return False
    return not is_minor or actor.has(CHILD_PROTECTION)


def require_may_file_minor(actor: Actor, is_minor: bool) -> None:
    """`NotPermitted` when a minor's record is filed without the child-protection role."""
    if is_minor and not actor.has(CHILD_PROTECTION):
        raise NotPermitted("Records of minors need the child-protection permission.")


def require_may_decide(actor: Actor) -> None:
    """Victim-status decisions are taken by supervisors only."""
    if not actor.roles & DECISION_ROLES:
        raise NotPermitted("Only a supervisor may record this decision.")
