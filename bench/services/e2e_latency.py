"""Benchmark: end-to-end latency from a needs assessment filed in intake to the referral offer
on the partner's topic, at a steady request rate.

    nice -n 10 uv run --group bench python bench/services/e2e_latency.py \
        [--rate 50] [--seconds 15] [--out bench/results/e2e.json]

Intake, registry and referral run as real `uvicorn` processes on fresh databases of the shared
test stack ($HAVEN_TEST_STACK_DIR), each with its relay and consumers inside (tests/fault's
harness, without a crash point), and a shelter of the run's own partner organisation is seeded.
Not timed: opening one case and giving consent for each request to come. Timed: `--rate`
requests per second for `--seconds`, sent on a fixed schedule (open loop: a slow answer does not
delay the next request), each `POST /cases/{id}/needs-assessments` (a shelter need, which
referral routes to the shelter). The path measured: intake's transaction and outbox → relay →
`intake.case` → referral's consumer (eligibility, referral, offer, outbox) → relay →
`partner.<org>.referrals`. Latency of a request = the offer record's Kafka timestamp (set when
referral's relay produced it) minus the moment the request was sent; also the time until this
benchmark's own consumer saw it. Goal: p99 ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tests" / "fault"))

from common import (  # noqa: E402
    ROOT,
    command_line,
    end_offsets,
    header,
    load_average,
    machine,
    now_iso,
    percentiles,
    records_since,
    stack_from_env,
    versions,
)
from harness import Scenario  # noqa: E402

from haven_shared.events.referral import partner_topic  # noqa: E402

OFFERED = "haven.partner.referral.offered.v1"
NEEDS_ASSESSED = "haven.intake.needs.assessed.v1"
GOAL_P99_MS = 250.0
NEEDS = {
    "needs": [{"kind": "shelter", "urgency": "high"}],
    "women_only_shelter": True,
    "languages": ["ti"],
}


class OfferWatcher(threading.Thread):
    """Reads the partner's topic from its current end; notes each offer's Kafka timestamp and
    when it was seen here."""

    def __init__(self, bootstrap: str, topic: str, event_type: str = OFFERED) -> None:
        super().__init__(daemon=True)
        self.event_type = event_type
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
        )
        deadline = time.monotonic() + 30
        # The client may not have the topic's metadata yet: ask until it has.
        while not (known := self.consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no partitions known for {topic}")
            self.consumer.topics()  # refreshes the cluster metadata
            time.sleep(0.2)
        parts = [TopicPartition(topic, p) for p in sorted(known)]
        self.consumer.assign(parts)
        self.consumer.seek_to_end(*parts)
        for tp in parts:
            self.consumer.position(tp)  # resolve the end now, before any offer is made
        self.offers: dict[str, tuple[float, float]] = {}  # referral id → (kafka ts, seen)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for records in self.consumer.poll(timeout_ms=50).values():
                seen = time.time()
                for r in records:
                    if header(r, "ce_type") == self.event_type and r.key:
                        self.offers.setdefault(r.key.decode(), (r.timestamp / 1000, seen))
        self.consumer.close()


async def prepare(url: str, headers: dict[str, str], n: int, concurrency: int = 8) -> list[str]:
    """`n` cases of a 16-year-old with consent to share with shelters (not timed)."""
    cases: list[str] = []
    queue = list(range(n))

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

        async def worker() -> None:
            while queue:
                i = queue.pop()
                case = await client.post(
                    "/cases",
                    json={
                        "kind": "survivor-support",
                        "person": {"display_name": f"Bench Person {i}", "estimated_age": 16},
                    },
                )
                assert case.status_code == 201, case.text
                case_id = case.json()["id"]
                consent = await client.post(
                    f"/cases/{case_id}/consents",
                    json={"purpose": "services", "partner_kinds": ["shelter"]},
                )
                assert consent.status_code == 201, consent.text
                cases.append(case_id)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return cases


async def steady(
    url: str, headers: dict[str, str], cases: list[str], rate: float
) -> tuple[dict[str, float], list[float], dict[str, int], int]:
    """One needs assessment per case at `rate` per second on a fixed schedule."""
    sent: dict[str, float] = {}
    answer_ms: list[float] = []
    statuses: dict[str, int] = {}
    retried = 0
    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=120, limits=limits
    ) as client:

        async def one(case_id: str) -> None:
            nonlocal retried
            sent[case_id] = time.time()
            t0 = time.perf_counter()
            key = {"Idempotency-Key": f"bench-{run}-{case_id}"}
            status = "unsent"
            for attempt in range(3):
                try:
                    r = await client.post(
                        f"/cases/{case_id}/needs-assessments", json=NEEDS, headers=key
                    )
                    status = str(r.status_code)
                    break
                except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError) as exc:
                    # A kept-alive connection the server closed meanwhile: send again, as a
                    # client would, under the same key.
                    status = type(exc).__name__
                    retried += attempt == 0
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                    break
            statuses[status] = statuses.get(status, 0) + 1
            if status == "201":
                answer_ms.append((time.perf_counter() - t0) * 1000)

        start = time.perf_counter()
        tasks = []
        for i, case_id in enumerate(cases):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(case_id)))
        await asyncio.gather(*tasks)
    return sent, answer_ms, statuses, retried


def profile(scenario: Scenario, into: Path, seconds: float) -> list[subprocess.Popen[bytes]]:
    """py-spy recording each service process (all threads) for `seconds`."""
    into.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                "py-spy",
                "record",
                "--pid",
                str(proc.proc.pid),
                "--format",
                "raw",
                "--rate",
                "100",
                "--duration",
                str(int(seconds)),
                "--output",
                str(into / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, proc in scenario.procs.items()
        if proc.proc is not None
    ]


def referrals_of(url: str, cases: list[str]) -> dict[str, str]:
    """Referral id → case id, for the run's cases."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                sa.text("SELECT id, case_id FROM referral WHERE case_id = ANY(:ids)"),
                {"ids": [uuid.UUID(x) for x in cases]},
            ).all()
        return {str(r): str(c) for r, c in rows}
    finally:
        engine.dispose()


def offers_in_outbox(url: str, referral_ids: list[str]) -> dict[str, tuple[float, str, bool]]:
    """Referral id → (when its offer row entered referral's outbox, the partner it is for,
    whether the relay has sent it)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT aggregateid, created_at, payload, sent_at IS NOT NULL FROM outbox "
                    "WHERE type = :t AND aggregateid = ANY(:ids) ORDER BY seq"
                ),
                {"t": OFFERED, "ids": referral_ids},
            ).all()
        out: dict[str, tuple[float, str, bool]] = {}
        for a, t, payload, sent in rows:
            body = payload if isinstance(payload, dict) else json.loads(payload)
            out.setdefault(str(a), (t.timestamp(), str(body.get("partner_org", "")), sent))
        return out
    finally:
        engine.dispose()


def offers_on_topics(
    bootstrap: str, partners: set[str], referral_ids: set[str]
) -> dict[str, float]:
    """Referral id → Kafka timestamp of its first offer record on its partner's topic.

    Read after the run from each partner topic an offer went to: referral's provider consumer
    reads the broker's shared `registry.provider`, so shelters of other suites running
    meanwhile may be chosen as well as the run's own."""
    found: dict[str, float] = {}
    for partner in sorted(partners):
        for r in records_since(bootstrap, partner_topic(partner), {}):
            key = r.key.decode() if r.key else ""
            if key in referral_ids and header(r, "ce_type") == OFFERED:
                found[key] = min(found.get(key, r.timestamp / 1000), r.timestamp / 1000)
    return found


def one_rate(
    scenario: Scenario,
    auth: Callable[[], dict[str, str]],
    rate: float,
    seconds: float,
    profile_dir: str | None,
) -> dict[str, Any]:
    """Cases prepared, then `rate` needs assessments a second for `seconds`; the figures."""
    stack, intake = scenario.stack, scenario.procs["intake"].url
    # Tokens live minutes: a fresh one for each phase.
    cases = asyncio.run(prepare(intake, auth(), int(rate * seconds)))
    # The middle of the path: intake's event on its topic (keyed by case id).
    assessed = OfferWatcher(stack.kafka_bootstrap, "intake.case", NEEDS_ASSESSED)
    assessed.start()
    load = [load_average()]
    topic_start = end_offsets(stack.kafka_bootstrap, "intake.case")
    spies = profile(scenario, Path(profile_dir), seconds + 5) if profile_dir else []
    t0 = time.perf_counter()
    sent, answer_ms, statuses, retried = asyncio.run(steady(intake, auth(), cases, rate))
    send_seconds = time.perf_counter() - t0
    deadline = time.monotonic() + 300
    referrals: dict[str, str] = {}
    outboxed: dict[str, tuple[float, str, bool]] = {}
    while time.monotonic() < deadline:
        referrals = referrals_of(scenario.db["referral"], cases)
        outboxed = offers_in_outbox(scenario.db["referral"], list(referrals))
        if len(referrals) >= len(sent) and all(
            outboxed.get(r, (0, "", False))[2] for r in referrals
        ):
            break
        time.sleep(0.5)
    offers = offers_on_topics(
        stack.kafka_bootstrap, {p for _, p, _ in outboxed.values()}, set(referrals)
    )
    load.append(load_average())
    ours = set(cases)
    through = records_since(stack.kafka_bootstrap, "intake.case", topic_start)
    for spy in spies:
        spy.wait(timeout=60)
    assessed.stop.set()
    assessed.join(10)
    on_topic, intake_stage, referral_stage = [], [], []
    consumed, relayed = [], []
    for referral_id, case_id in referrals.items():
        if referral_id in offers and case_id in sent:
            ts = offers[referral_id]
            on_topic.append((ts - sent[case_id]) * 1000)
            if case_id in assessed.offers:
                middle = assessed.offers[case_id][0]
                intake_stage.append((middle - sent[case_id]) * 1000)
                referral_stage.append((ts - middle) * 1000)
                if referral_id in outboxed:
                    consumed.append((outboxed[referral_id][0] - middle) * 1000)
                    relayed.append((ts - outboxed[referral_id][0]) * 1000)
    result = percentiles(on_topic)
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "requests": len(cases),
        "achieved_send_rate_per_s": round(len(sent) / send_seconds, 1),
        "load_average_1_5_15": load,
        "answers": {
            "statuses": statuses,
            "retried_after_a_dropped_connection": retried,
            **percentiles(answer_ms),
        },
        # Referral's consumer reads the broker's shared intake.case: other suites' events
        # published meanwhile pass through it as well.
        "intake_case_records_meanwhile": {
            "this_run": sum(1 for r in through if r.key and r.key.decode() in ours),
            "others": sum(1 for r in through if not (r.key and r.key.decode() in ours)),
        },
        "referrals": len(referrals),
        "offers_on_topic": len(on_topic),
        "missing_offers": len(sent) - len(on_topic),
        "latency_to_offer_on_topic": result,
        "offers_by_partner": {
            "this_runs_shelter": sum(1 for _, q, _ in outboxed.values() if q == scenario.partner),
            "other_suites_shelters": sum(
                1 for _, q, _ in outboxed.values() if q != scenario.partner
            ),
        },
        "stages": {
            "request_to_needs_event_on_intake_topic": percentiles(intake_stage),
            "needs_event_to_offer_on_partner_topic": percentiles(referral_stage),
            "of_which_needs_event_to_offer_in_referral_outbox": percentiles(consumed),
            "of_which_referral_outbox_to_partner_topic": percentiles(relayed),
        },
        "meets_goal": bool(result)
        and result["p99_ms"] <= GOAL_P99_MS
        and len(on_topic) == len(sent),
    }


SETUP = {
    "schedule": "open loop, fixed interval; httpx.AsyncClient in the benchmark; a request "
    "whose connection dropped is sent again with the same Idempotency-Key (latency still from "
    "the first send)",
    "services": "intake, registry, referral as uvicorn processes (one worker each, relays and "
    "consumers embedded) on fresh PostgreSQL databases; one shelter of the run's own partner",
    "latency": "offer record's Kafka timestamp (CreateTime, set by referral's relay) minus the "
    "request's send time; same clock",
    "note": "PostgreSQL, Kafka, Keycloak, the three services and the load generator share 2 "
    "cores with other engineers' work; see the load averages. The consumers read the broker's "
    "shared intake.case and referral.referral topics, so other suites' events published "
    "meanwhile pass through them too",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--rate",
        type=float,
        nargs="+",
        default=[50.0],
        help="one run per rate, in turn, on the same services",
    )
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--out", default=str(ROOT / "bench/results/e2e.json"))
    ap.add_argument(
        "--profile",
        metavar="DIR",
        help="py-spy each service during the (last) "
        "steady phase into DIR/<service>.txt (collapsed stacks; profile_report.py)",
    )
    args = ap.parse_args()
    stack = stack_from_env()
    started = load_average()
    meta: dict[str, str] = {}
    runs: list[dict[str, Any]] = []

    def write() -> None:
        """The report so far (after each rate: a long run is not lost to a later failure)."""
        report = {
            "benchmark": "end-to-end latency: needs assessment in intake -> offer on partner topic",
            "date": now_iso(),
            "machine": machine(),
            "versions": meta,
            "command": command_line(),
            "load_average_1_5_15": {"start": started, "end": load_average()},
            "setup": SETUP,
            "goal_p99_ms": GOAL_P99_MS,
            "runs": runs,
        }
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")

    with Scenario(stack, target="intake", cases=0) as scenario:
        scenario.seed_provider()
        meta.update(versions(scenario.db["intake"], extra=("pydantic",)))

        def auth() -> dict[str, str]:
            return {
                "Authorization": f"Bearer {stack.password_token('chris')}",
                "X-Purpose-Of-Use": "survivor-support",
            }

        for rate in args.rate:
            runs.append(one_rate(scenario, auth, rate, args.seconds, args.profile))
            write()
    print(
        json.dumps(
            [
                {
                    k: r[k]
                    for k in (
                        "rate_per_s",
                        "answers",
                        "missing_offers",
                        "latency_to_offer_on_topic",
                        "stages",
                        "meets_goal",
                    )
                }
                for r in runs
            ],
            indent=2,
        )
    )
    complete = all(
        r["missing_offers"] == 0 and r["answers"]["statuses"].get("201") == r["requests"]
        for r in runs
    )
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
