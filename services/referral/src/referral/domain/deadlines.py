"""Legal clocks: the recovery and reflection period and residence-permit expiry.

Deadlines are data; `due_alerts` says, for a given `now` (an injectable clock, never the wall
clock), which `approaching` and `breached` alerts are due and not yet sent. Sending each alert
once is the caller's business: it records the alert keys it has published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# The Council of Europe Convention on Action against Trafficking (art. 13) sets a recovery and
# reflection period of at least 30 days; jurisdictions may grant more, never less.
MIN_REFLECTION_DAYS = 30


class DeadlineKind(StrEnum):
    REFLECTION_PERIOD_END = "reflection-period-end"
    RESIDENCE_PERMIT_EXPIRY = "residence-permit-expiry"
    OFFER_RESPONSE = "offer-response"


@dataclass(frozen=True)
class Deadline:
    deadline_id: str
    case_id: str
    kind: DeadlineKind
    due: datetime
    caseworker: str


@dataclass(frozen=True)
class Alert:
    deadline: Deadline
    kind: str  # "approaching" or "breached"
    offset: timedelta  # how long before `due` an approaching alert is; zero when breached

    @property
    def key(self) -> str:
        """Identifies the alert, so it is published once however often the clock ticks."""
        return f"{self.deadline.deadline_id}:{self.kind}:{int(self.offset.total_seconds())}"


def reflection_period_end(
    presumed_victim_at: datetime, days: int = MIN_REFLECTION_DAYS
) -> datetime:
    """End of the recovery and reflection period that starts when someone is presumed a victim."""
    if days < MIN_REFLECTION_DAYS:
        raise ValueError(f"the reflection period is at least {MIN_REFLECTION_DAYS} days")
    return presumed_victim_at + timedelta(days=days)


def due_alerts(
    deadlines: list[Deadline],
    now: datetime,
    approaching_offsets: tuple[timedelta, ...],
    already_sent: set[str],
) -> list[Alert]:
    """Alerts due at `now` and not in `already_sent`, earliest deadline first.

    An approaching alert at offset `o` is due once `now >= due - o`; a breached alert once
    `now >= due`. A deadline already breached gets no approaching alerts any more.
    """
    out: list[Alert] = []
    for d in sorted(deadlines, key=lambda d: (d.due, d.deadline_id)):
        if now >= d.due:
            alerts = [Alert(d, "breached", timedelta(0))]
        else:
            alerts = [Alert(d, "approaching", o) for o in sorted(approaching_offsets, reverse=True)
                      if now >= d.due - o]
            # Only the nearest offset matters when several came due between two ticks.
            alerts = alerts[-1:]
        out.extend(a for a in alerts if a.key not in already_sent)
    return out
