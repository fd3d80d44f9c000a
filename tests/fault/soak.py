"""Random soak: cases filed without pause while a chaos loop SIGKILLs random service processes.

The chaos loop is seeded and bounded: it waits a random 2-6 s, kills one of intake, registry
and referral (the whole process group, like `kill -9`), starts it again and waits until it is
ready, and stops by itself when the load's time is up or after `max_kills`. Clients retry a
request that got no answer with the same `Idempotency-Key` until it is answered, as a real
client would; a request is acknowledged when it gets a 2xx. When the load stops the harness
waits for convergence and checks the usual invariant: every acknowledged request's effects
exist exactly once downstream, every outbox drained.

    with Soak(stack, seconds=20, seed=1) as soak:
        outcome = soak.churn()
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from harness import HarnessError, Outcome, Scenario, kill_group

from haven_shared.testing.stack import LocalStack

ANSWER_WITHIN = 120.0  # seconds a client keeps retrying one request


@dataclass
class SoakOutcome:
    """The soak's figures next to the scenario's counts."""

    seconds: float
    seed: int
    kills: list[dict[str, Any]] = field(default_factory=list)
    cases: int = 0
    outcome: Outcome | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "seed": self.seed,
            "kills": self.kills,
            "cases": self.cases,
            **(self.outcome.as_dict() if self.outcome else {}),
        }


class Soak(Scenario):
    """A scenario without crash points: its processes die by the chaos loop's SIGKILL."""

    def __init__(
        self, stack: LocalStack, *, seconds: float = 20.0, seed: int = 0, max_kills: int = 30
    ) -> None:
        super().__init__(stack, target="intake", crash_at=None, seed=seed, cases=0)
        self.seconds = seconds
        self.max_kills = max_kills
        self.rng = random.Random(seed)
        self.soak = SoakOutcome(seconds, seed)
        self._lock = threading.Lock()  # one restart at a time; requests wait for none

    def supervise(self) -> None:
        """The chaos loop restarts what it kills; nothing else may die."""

    # ---- chaos ---------------------------------------------------------------------------

    def kill(self, svc: str) -> None:
        """SIGKILL the service's process group, start it again, wait until it is ready."""
        with self._lock:
            proc = self.procs[svc]
            assert proc.proc is not None
            started = time.monotonic()
            kill_group(proc.proc.pid)
            status = proc.proc.wait(timeout=30)
            proc.start()  # reaps what is left of the killed group first
            if not proc.wait_ready():
                raise HarnessError(f"{svc} died after a restart: {proc.log_tail()}")
            self._last_fault = time.monotonic()
            self.soak.kills.append(
                {
                    "service": svc,
                    "at": round(started - self._t0, 2),
                    "exit_status": status,
                    "down_seconds": round(time.monotonic() - started, 2),
                }
            )

    def _chaos(self, stop: threading.Event) -> None:
        while not stop.is_set() and len(self.soak.kills) < self.max_kills:
            if stop.wait(self.rng.uniform(2.0, 6.0)):
                return
            self.kill(self.rng.choice(("intake", "registry", "referral")))

    # ---- load ----------------------------------------------------------------------------

    def ask(self, method: str, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        """Send until answered (any status below 500), retrying with the same key."""
        headers = {**self._auth("chris"), "Idempotency-Key": key}
        deadline = time.monotonic() + ANSWER_WITHIN
        attempt = 0
        while time.monotonic() < deadline:
            self.outcome.requests += 1
            self.outcome.retried += attempt > 0
            attempt += 1
            try:
                r = httpx.request(
                    method,
                    f"{self.procs['intake'].url}{path}",
                    json=body,
                    headers=headers,
                    timeout=30,
                )
                if r.status_code < 500:
                    return r
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise HarnessError(f"{method} {path} never answered")

    def file_case(self, i: int) -> None:
        key = f"{self.run}-soak-{i}"
        case = self.ask(
            "POST",
            "/cases",
            {
                "kind": "survivor-support",
                "person": {"display_name": f"Soak Person {i}", "estimated_age": 16},
            },
            f"{key}-case",
        )
        assert case.status_code in (200, 201), case.text
        case_id = case.json()["id"]
        self.case_ids.append(case_id)
        self.outcome.acknowledged += 1
        consent = self.ask(
            "POST",
            f"/cases/{case_id}/consents",
            {"purpose": "services", "partner_kinds": ["shelter"]},
            f"{key}-consent",
        )
        assert consent.status_code in (200, 201), consent.text
        self.outcome.acknowledged += 1
        needs = self.ask(
            "POST",
            f"/cases/{case_id}/needs-assessments",
            {
                "needs": [{"kind": "shelter", "urgency": "high"}],
                "women_only_shelter": True,
                "languages": ["ti"],
            },
            f"{key}-needs",
        )
        assert needs.status_code in (200, 201), needs.text
        self.outcome.acknowledged += 1
        self.acked_needs.add(case_id)

    def churn(self, converge_timeout: float = 240.0) -> SoakOutcome:
        """Seed the shelter, then load for `seconds` under chaos; converge; count."""
        self.seed_provider()
        stop = threading.Event()
        errors: list[BaseException] = []

        def chaos() -> None:
            try:
                self._chaos(stop)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        self._t0 = time.monotonic()
        thread = threading.Thread(target=chaos, name="soak-chaos", daemon=True)
        thread.start()
        try:
            i = 0
            while time.monotonic() - self._t0 < self.seconds and not errors:
                self.file_case(i)
                i += 1
        finally:
            stop.set()
            thread.join(120)
        if errors:
            raise errors[0]
        self.cases = self.soak.cases = len(self.case_ids)
        self.wait_converged(converge_timeout)
        self.soak.outcome = self.check()
        self.soak.outcome.crashes = [k["service"] for k in self.soak.kills]
        self.soak.outcome.seconds = round(time.monotonic() - self._t0, 1)
        return self.soak
