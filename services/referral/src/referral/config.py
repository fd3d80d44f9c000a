"""Settings of the referral service (environment variables prefixed REFERRAL_)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from haven_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore", frozen=True)

    service_name: str = "referral"
    # Publish the outbox from the API process (a separate worker can take over later).
    relay_enabled: bool = True
    relay_idle_seconds: float = Field(default=0.2, gt=0)
    # Consume registry's provider events into the read model from the API process.
    provider_consumer_enabled: bool = True
    consumer_group: str = "referral"
    # Apply partners' answers from their `partner.<org>.responses` topics.
    partner_responses_enabled: bool = True
    # Stop referrals when intake reports a withdrawal of consent.
    intake_consumer_enabled: bool = True
    # How often the responses consumer looks for partner topics made elsewhere (topics referral
    # creates itself are taken in at once).
    topic_discovery_ms: int = Field(default=2_000, ge=1_000)
    # Seconds between ticks of the clock: expired offers go to the next provider, deadline
    # alerts fire; 0 disables.
    escalation_interval_seconds: float = Field(default=60, ge=0)
    # Partitions of the topics referral creates when missing (its own and partner topics).
    topic_partitions: int = Field(default=3, ge=1)
    # How long a provider has to answer an offer, per urgency, before it escalates.
    sla_emergency_hours: float = Field(default=2, gt=0)
    sla_high_hours: float = Field(default=24, gt=0)
    sla_routine_hours: float = Field(default=72, gt=0)

    # Recovery and reflection period of this jurisdiction (at least 30 days: CoE Convention,
    # art. 13).
    reflection_days: int = Field(default=30, ge=30)
    # Alerts before a legal deadline, in hours (an alert also fires when it passes).
    deadline_alert_offsets_hours: tuple[int, ...] = (168, 24)

    def alert_offsets(self) -> tuple[timedelta, ...]:
        """The approaching-alert offsets."""
        return tuple(timedelta(hours=h) for h in self.deadline_alert_offsets_hours)

    def sla(self) -> dict[str, timedelta]:
        """Response deadline per urgency name."""
        return {"emergency": timedelta(hours=self.sla_emergency_hours),
                "high": timedelta(hours=self.sla_high_hours),
                "routine": timedelta(hours=self.sla_routine_hours)}
