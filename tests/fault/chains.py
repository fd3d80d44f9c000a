"""Which crash points each service reaches in the flow under test, and their hit counts by seed."""

from __future__ import annotations

import random

from haven_shared.faults import POINTS, CrashSpec, format_specs

#: Points reached in each service by the flow (seed a shelter, file consent + needs):
#: intake commits requests and relays intake.case; referral consumes intake.case and
#: registry.provider and relays offers; registry commits the shelter, relays it and consumes
#: intake.case into its person index.
REACHED: dict[str, tuple[str, ...]] = {
    "intake": (
        "outbox.after-stage",
        "uow.before-commit",
        "uow.after-commit",
        "relay.after-claim",
        "relay.before-publish",
        "relay.after-publish-before-mark-sent",
        "relay.after-mark-sent-before-commit",
        "relay.after-mark-sent",
    ),
    "referral": (
        "inbox.after-poll",
        "inbox.before-effect",
        "inbox.after-effect-before-commit",
        "inbox.after-db-commit-before-offset-commit",
        "inbox.after-offset-commit",
        "inbox.dead-letter-before-commit",
        "inbox.dead-letter-after-commit",
        "uow.after-commit",
        "relay.after-publish-before-mark-sent",
        "relay.after-mark-sent",
    ),
    "registry": (
        "uow.after-commit",
        "relay.after-publish-before-mark-sent",
        "inbox.after-offset-commit",
    ),
}

#: The short chains CI runs (one scenario per service, the service crashing at each in turn).
CI_CHAINS: dict[str, tuple[str, ...]] = {
    "intake": REACHED["intake"],
    # The dead-letter point first: the poison goes on the topic with the first case.
    "referral": (
        "inbox.dead-letter-before-commit",
        "inbox.after-effect-before-commit",
        "inbox.after-db-commit-before-offset-commit",
        "relay.after-publish-before-mark-sent",
    ),
    # The person index's offset point meets the scenario's own tracing records (TRACING).
    "registry": (
        "uow.after-commit",
        "relay.after-publish-before-mark-sent",
        "inbox.after-offset-commit",
    ),
}

# Dead-letter points are reached once per poison record; the others several times a run.
_ONCE = {"inbox.dead-letter-before-commit", "inbox.dead-letter-after-commit"}


def nth_for(point: str, rng: random.Random, most: int = 2) -> int:
    """Which hit of `point` kills the process (1 to `most`, by the seed)."""
    return 1 if point in _ONCE else rng.randint(1, most)


def crash_setting(points: tuple[str, ...] | list[str], seed: int, most: int = 2) -> str:
    """The `HAVEN_CRASH_AT` value crashing at each of `points` in turn, hit counts by `seed`."""
    rng = random.Random(seed)
    return format_specs([CrashSpec(p, nth_for(p, rng, most)) for p in points])


#: Missing-person reports filed in each CI chain (registry's person index indexes them).
TRACING: dict[str, int] = {"intake": 0, "referral": 0, "registry": 2}

#: Registry sees little traffic in the flow (one shelter): its points die at the first hit.
MOST_HITS = {"intake": 2, "referral": 2, "registry": 1}


def needs_poison(points: tuple[str, ...] | list[str]) -> bool:
    """Dead-letter points are only reached when poison is on the topic."""
    return any(p in _ONCE for p in points)


if not all(p in POINTS for chain in REACHED.values() for p in chain):
    raise ValueError("a chain names a crash point the backbone does not define")
