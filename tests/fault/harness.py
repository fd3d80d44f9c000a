"""Fault harness: the three services as real processes, one of them set to die at a crash point.

A `Scenario` gives intake, registry and referral fresh databases and consumer groups of their
own on the shared test stack, starts each as `uvicorn --factory <svc>.main:create_app` on a free
loopback port (the target with `HAVEN_CRASH_AT`), seeds one shelter in registry and waits until
referral knows it, then files consent and a needs assessment for N cases in intake. Whenever the
target process has died it is started again without the crash setting. Clients retry a request
that got no answer with the same `Idempotency-Key`, as a real client would. When every request is
acknowledged the harness waits for the system to converge and counts, from the databases and
the partner's topic:

- every acknowledged needs assessment exists once in intake and gave exactly one referral;
- every referral was offered exactly once on the partner's topic (distinct CloudEvents ids;
  the same event id delivered more than once is the relay's at-least-once, not a double effect);
- every outbox is drained.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from haven_shared.events.envelope import Envelope
from haven_shared.events.intake import TOPIC as INTAKE_TOPIC
from haven_shared.events.intake import NeedsAssessed
from haven_shared.events.referral import partner_topic
from haven_shared.faults import CRASH_LOG_PREFIX, ENV_VAR, CrashSpec, format_specs, parse_specs
from haven_shared.kafka import ensure_topics, make_producer
from haven_shared.testing.stack import LocalStack, free_port

SERVICES = ("registry", "referral", "intake")
OFFERED = "haven.partner.referral.offered.v1"
RESPONSES = re.compile(r"^partner\..+\.responses$")
READY_TIMEOUT = 120.0
REQUEST_ATTEMPTS = 6
#: Consumer session timeout of the scenario's services (the broker's minimum is 6 s).
SESSION_TIMEOUT_MS = int(os.environ.get("HAVEN_FAULT_SESSION_TIMEOUT_MS", "6000"))


class HarnessError(AssertionError):
    """The scenario could not be carried out (a service never came up, no convergence)."""


def until(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.3) -> Any:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise HarnessError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def pin_groups_to_end(bootstrap: str, groups: dict[str, Iterable[str]]) -> None:
    """Commit each group's offsets at the current end of its topics.

    The scenario's consumer groups are new; without this they would start at the earliest
    offset and replay every earlier scenario's events on the shared broker.
    """
    for group, topics in groups.items():
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        try:
            parts = [
                TopicPartition(t, p)
                for t in topics
                for p in sorted(consumer.partitions_for_topic(t) or ())
            ]
            if parts:
                ends = consumer.end_offsets(parts)
                consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in ends.items()})
        finally:
            consumer.close(autocommit=False)


def topic_size(bootstrap: str, topic: str) -> int:
    """The sum of `topic`'s end offsets (0 when it does not exist)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return sum(consumer.end_offsets(parts).values()) if parts else 0
    finally:
        consumer.close()


def topics_matching(bootstrap: str, pattern: re.Pattern[str]) -> list[str]:
    """The broker's topics whose names match `pattern`."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return sorted(t for t in consumer.topics() if pattern.match(t))
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every record currently on `topic`, from the beginning to the end offsets."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not parts:
            return []
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        records: list[Any] = []
        deadline = time.monotonic() + 30
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise HarnessError(f"could not read {topic} to its end")
            for recs in consumer.poll(timeout_ms=500).values():
                records.extend(recs)
        return records
    finally:
        consumer.close()


def header(record: Any, name: str) -> str:
    """A record header as text ('' when absent)."""
    for k, v in record.headers or ():
        if k == name and v is not None:
            return str(v.decode())
    return ""


#: Process groups this process started and has not stopped yet: pgid -> its leader.
_STARTED: dict[int, subprocess.Popen[bytes]] = {}
_STARTED_LOCK = threading.Lock()
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with(parent: int) -> Callable[[], None]:
    """A `preexec_fn`: the child gets SIGKILL when the thread that started it dies (Linux).

    Only the main thread's children get it: a child started by a helper thread (the soak's
    chaos loop) would otherwise die when that thread ends."""

    def preexec() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the starter died before prctl took effect
            os._exit(1)

    return preexec


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    """Signal every process of the group `pgid` (nothing when it is gone)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_started() -> int:
    """SIGKILL every process group this process started and has not stopped; how many.

    Runs at interpreter exit, so an error or Ctrl-C that skips `Scenario.close` still leaves
    no service behind (a SIGKILL of this process is covered by the children's death signal)."""
    with _STARTED_LOCK:
        groups = dict(_STARTED)
        _STARTED.clear()
    for pgid, popen in groups.items():
        kill_group(pgid)
        try:
            popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    return len(groups)


atexit.register(kill_started)


def exit_on_signals(signals: Iterable[int] = (signal.SIGTERM, signal.SIGHUP)) -> None:
    """Turn `signals` into `SystemExit` in the main thread, so `finally` blocks and context
    managers (`Scenario.close`) run and stop the services, as on Ctrl-C."""

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    for sig in signals:
        signal.signal(sig, handler)


@dataclass
class ServiceProcess:
    """One service as a uvicorn process in a process group (and session) of its own.

    Stopping kills the whole group. Every group started is also killed at interpreter exit
    (`kill_started`), and a process started from the main thread dies with it even when it is
    SIGKILLed (Linux's parent-death signal)."""

    name: str
    port: int
    env: dict[str, str]
    log_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The service's command line."""
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"{self.name}.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
        ]

    def start(self, crash_at: str | None = None) -> None:
        """Start the process (dying at `crash_at` when given)."""
        self.reap()
        env = {k: v for k, v in self.env.items() if k != ENV_VAR}
        if crash_at:
            env[ENV_VAR] = crash_at
        self.starts += 1
        log = open(self.log_dir / f"{self.name}.{self.starts}.log", "wb")  # noqa: SIM115
        main = threading.current_thread() is threading.main_thread()
        try:
            with _STARTED_LOCK:
                self.proc = subprocess.Popen(  # noqa: S603 - our own service, fixed arguments
                    self.command(),
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with(os.getpid()) if main else None,  # noqa: PLW1509
                )
                _STARTED[self.proc.pid] = self.proc
        finally:
            log.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def ready(self) -> bool:
        """True when `/readyz` answers 200."""
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        """Wait for readiness; False when the process died first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            if self.ready():
                return True
            time.sleep(0.3)
        raise HarnessError(f"{self.name} not ready after {timeout:.0f}s: {self.log_tail()}")

    def terminate(self) -> None:
        """Ask the whole process group to stop (SIGTERM); `stop` waits for it."""
        if self.proc is not None and self.proc.poll() is None:
            kill_group(self.proc.pid, signal.SIGTERM)

    def stop(self, grace: float = 10.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after `grace` s (idempotent)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            kill_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self.reap()

    def reap(self) -> None:
        """SIGKILL what is left of the process group (the leader may be gone) and forget it."""
        if self.proc is None:
            return
        kill_group(self.proc.pid)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with _STARTED_LOCK:
            _STARTED.pop(self.proc.pid, None)
        self.proc = None

    def log_tail(self, chars: int = 3000) -> str:
        text = "".join(
            p.read_text(errors="replace") for p in sorted(self.log_dir.glob(f"{self.name}.*.log"))
        )
        return text[-chars:]

    def crashed_at(self) -> str | None:
        """The crash point the latest run of the process died at (None: no crash point)."""
        latest = self.log_dir / f"{self.name}.{self.starts}.log"
        found = (
            re.search(
                re.escape(CRASH_LOG_PREFIX) + r"(\S+) hit", latest.read_text(errors="replace")
            )
            if latest.exists()
            else None
        )
        return found.group(1) if found else None


@dataclass
class Outcome:
    """What one scenario did and found."""

    target: str
    crash_at: str | None
    seed: int
    crashes: list[str] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)
    exit_statuses: list[int | None] = field(default_factory=list)
    acknowledged: int = 0
    requests: int = 0
    retried: int = 0
    assessments: int = 0
    referrals: int = 0
    offers: int = 0
    offer_records: int = 0
    foreign_offer_records: int = 0  # offers on the partner topic by other suites' processes
    offers_to_other_partners: int = 0  # the scenario's offers to other suites' shelters
    tracing_records: int = 0
    indexed: int = 0
    lost: int = 0
    duplicated: int = 0
    outbox_pending: dict[str, int] = field(default_factory=dict)
    # Unsent rows staged after convergence was reached (other processes' events on a shared
    # broker): not part of the invariant, reported to show the stack was shared.
    outbox_pending_after_horizon: dict[str, int] = field(default_factory=dict)
    # Records put on intake.case while the scenario ran: its own intake's (a few per case)
    # and, on a shared broker, other processes' (which its referral and registry consume too).
    intake_topic_records: int = 0
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    poison_sent: int = 0
    duplicates_sent: int = 0
    converge_seconds: float = 0.0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Scenario:
    """Intake, registry and referral on fresh databases; one crash setting for one of them."""

    def __init__(
        self,
        stack: LocalStack,
        *,
        target: str = "intake",
        crash_at: str | None = None,
        seed: int = 0,
        cases: int = 4,
        poison: bool = False,
        tracing: int = 0,
        settings: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """`crash_at` is a `HAVEN_CRASH_AT` value: one point or several, crashed at in turn;
        `tracing` missing-person reports are filed after the cases (registry indexes them)."""
        if target not in SERVICES:
            raise ValueError(f"unknown service {target!r}")
        self.stack = stack
        self.target = target
        self.crash_at = crash_at
        self.remaining: list[CrashSpec] = list(parse_specs(crash_at or ""))
        self.seed = seed
        self.cases = cases
        self.poison = poison
        self.tracing = tracing
        self.settings = settings or {}  # service -> extra settings (without the env prefix)
        self.tracing_refs: dict[str, str] = {}  # case id -> the person index's record ref
        self.poison_offsets: dict[str, tuple[int, int]] = {}
        self._started = time.monotonic()
        self.run = uuid.uuid4().hex[:10]
        self.partner = f"shelter-fault-{self.run}"
        self.outcome = Outcome(target, crash_at, seed)
        self._dir = Path(tempfile.mkdtemp(prefix=f"haven-fault-{self.run}-"))
        self.db: dict[str, str] = {}
        self.procs: dict[str, ServiceProcess] = {}
        self.case_ids: list[str] = []
        self.acked_needs: set[str] = set()
        self._engines: dict[str, sa.Engine] = {}
        self._tokens: dict[str, str] = {}
        self._last_fault = time.monotonic()
        self._horizon: dict[str, int] | None = None  # outbox seqs the drain check covers
        self._intake_topic_start = 0

    # ---- life cycle ----------------------------------------------------------------------

    def __enter__(self) -> Scenario:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def groups(self) -> dict[str, list[str]]:
        """The scenario's consumer groups and the topics each reads."""
        bootstrap = self.stack.kafka_bootstrap
        g = f"fault-{self.run}"
        return {
            g: ["registry.provider"],
            f"{g}-intake": ["intake.case"],
            f"{g}-partner-responses": topics_matching(bootstrap, RESPONSES),
            f"fault-intake-{self.run}": ["referral.referral", "registry.match"],
            f"fault-registry-{self.run}": ["intake.case"],
        }

    def _start(self) -> None:
        s = self.stack
        ensure_topics(
            s.kafka_bootstrap,
            {
                "intake.case": 3,
                "registry.provider": 3,
                "referral.referral": 3,
                "registry.match": 3,
                partner_topic(self.partner): 3,
                f"partner.{self.partner}.responses": 3,
            },
            # On a three-broker cluster: every partition on all three, two in sync to write.
            replication_factor=min(3, s.kafka_brokers),
            configs={"min.insync.replicas": "2"} if s.kafka_brokers >= 3 else None,
        )
        pin_groups_to_end(s.kafka_bootstrap, self.groups())
        self._intake_topic_start = topic_size(s.kafka_bootstrap, INTAKE_TOPIC)
        common = {
            "ENVIRONMENT": "test",
            "KAFKA_BOOTSTRAP": s.kafka_bootstrap,
            "KEYCLOAK_ISSUER": s.issuer,
            # A killed consumer's partitions move on after seconds, not the default 45 s.
            "KAFKA_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
            "KAFKA_HEARTBEAT_INTERVAL_MS": str(SESSION_TIMEOUT_MS // 4),
        }
        ports = {svc: free_port() for svc in SERVICES}
        extra = {
            "intake": {"OUTCOME_CONSUMER_GROUP": f"fault-intake-{self.run}"},
            "registry": {
                "RELAY_IDLE_SECONDS": "0.05",
                "INDEX_CONSUMER_GROUP": f"fault-registry-{self.run}",
                # The person index asks intake for record subjects' matching keys.
                "INTAKE_URL": f"http://127.0.0.1:{ports['intake']}",
            },
            "referral": {
                "RELAY_IDLE_SECONDS": "0.05",
                "CONSUMER_GROUP": f"fault-{self.run}",
                "TOPIC_DISCOVERY_MS": "1000",
                "ESCALATION_INTERVAL_SECONDS": "0",
                "MASTER_KEY": "fault-referral-master-key",
            },
        }
        base = {k: v for k, v in os.environ.items() if k != ENV_VAR}
        for svc in SERVICES:
            self.db[svc] = s.create_database(f"{svc}_fault")
            env = dict(base)
            prefix = svc.upper()
            own = {
                **common,
                "DATABASE_URL": self.db[svc],
                **extra[svc],
                **self.settings.get(svc, {}),
            }
            for k, v in own.items():
                env[f"{prefix}_{k}"] = v
            self.procs[svc] = ServiceProcess(svc, ports[svc], env, self._dir)
        for svc in SERVICES:
            self.procs[svc].start(self.armed() if svc == self.target else None)
        for svc in SERVICES:
            if not self.procs[svc].wait_ready():
                self.supervise()
                self.procs[svc].wait_ready()

    def restart(self, svc: str, **settings: str) -> None:
        """Stop `svc` (SIGTERM), change some of its settings, start it again and wait."""
        proc = self.procs[svc]
        proc.stop()
        proc.env.update({f"{svc.upper()}_{k}": v for k, v in settings.items()})
        proc.start()
        if not proc.wait_ready():
            raise HarnessError(f"{svc} died after a restart: {proc.log_tail()}")

    def close(self) -> None:
        """Stop every process, drop the databases, remove the logs."""
        for proc in self.procs.values():
            proc.terminate()  # all at once; then each is waited for (and killed if it lingers)
        for proc in self.procs.values():
            proc.stop()
        for engine in self._engines.values():
            engine.dispose()
        for url in self.db.values():
            try:
                self.stack.drop_database(url)
            except sa.exc.SQLAlchemyError:
                pass
        for p in sorted(self._dir.glob("*")):
            p.unlink()
        self._dir.rmdir()

    def armed(self) -> str | None:
        """The `HAVEN_CRASH_AT` of the target's next life: the next point not reached yet.

        One at a time, in order: with several armed, the relay's points (hit after every
        commit) would always come before a later commit's, and the rest would never fire.
        """
        return format_specs(self.remaining[:1]) or None

    def supervise(self) -> None:
        """Restart the target if it has died, armed with the next crash point of the chain."""
        for _ in range(len(self.remaining) + 1):
            proc = self.procs[self.target]
            if proc.alive():
                return
            point = proc.crashed_at()
            if point is None:
                raise HarnessError(f"{self.target} died without a crash point: {proc.log_tail()}")
            self.outcome.exit_statuses.append(proc.returncode())
            self.outcome.crashes.append(point)
            self.remaining = [s for s in self.remaining if s.point != point]
            proc.start(self.armed())  # reaps what is left of the dead process's group first
            self._last_fault = time.monotonic()
            if proc.wait_ready():
                return
        raise HarnessError(f"{self.target} keeps dying: {self.procs[self.target].log_tail()}")

    # ---- requests ------------------------------------------------------------------------

    def _auth(self, user: str, purpose: str = "survivor-support") -> dict[str, str]:
        if user not in self._tokens:
            for attempt in range(5):
                try:
                    self._tokens[user] = self.stack.password_token(user)
                    break
                except httpx.HTTPError:
                    # Keycloak is shared with other suites (one may be starting or busy).
                    if attempt == 4:
                        raise
                    time.sleep(2)
        return {
            "Authorization": f"Bearer {self._tokens[user]}",
            "X-Purpose-Of-Use": purpose,
        }

    def request(
        self,
        svc: str,
        method: str,
        path: str,
        user: str,
        body: dict[str, Any],
        key: str | None = None,
        purpose: str = "survivor-support",
    ) -> httpx.Response:
        """Send until answered (retrying with the same idempotency key after a crash)."""
        headers = self._auth(user, purpose)
        if key:
            headers["Idempotency-Key"] = key
        for attempt in range(REQUEST_ATTEMPTS):
            self.outcome.requests += 1
            if attempt:
                self.outcome.retried += 1
            try:
                r = httpx.request(
                    method, f"{self.procs[svc].url}{path}", json=body, headers=headers, timeout=30
                )
                if r.status_code < 500:
                    self.supervise()
                    return r
            except httpx.TransportError:
                pass
            time.sleep(0.3)
            self.supervise()
        raise HarnessError(f"{method} {path} on {svc} never answered")

    def seed_provider(self) -> str:
        """One child-qualified women's shelter of the scenario's own partner; its service id."""
        org_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"haven-fault/{self.run}"))
        r = self.request(
            "registry",
            "PUT",
            f"/directory/organisations/{org_id}",
            "dora",
            {
                "name": f"Fault shelter {self.run}",
                "description": "Shelter for women.",
                "code": self.partner,
            },
        )
        assert r.status_code in (200, 201), r.text
        service_id = ""
        for _ in range(REQUEST_ATTEMPTS):
            existing = httpx.get(
                f"{self.procs['registry'].url}/directory/services",
                params={"organisation_id": org_id},
                headers=self._auth("dora"),
                timeout=30,
            )
            if existing.status_code == 200 and existing.json():
                service_id = existing.json()[0]["id"]
                break
            try:
                r = httpx.post(
                    f"{self.procs['registry'].url}/directory/services",
                    headers=self._auth("dora"),
                    timeout=30,
                    json={
                        "organisation_id": org_id,
                        "name": "Girls' shelter",
                        "kind": "shelter",
                        "eligibility": {
                            "genders": ["female"],
                            "women_only": True,
                            "child_qualified": True,
                        },
                        "languages": ["ti", "en"],
                        "capacity": {"unit": "bed", "available": 900},
                    },
                )
                if r.status_code == 201:
                    service_id = r.json()["id"]
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
            self.supervise()
        assert service_id, "the shelter could not be registered"

        def known() -> bool:
            self.supervise()
            return (
                self._scalar(
                    "referral",
                    "SELECT count(*) FROM referral_provider WHERE service_id = :s",
                    s=uuid.UUID(service_id),
                )
                > 0
            )

        until("referral to learn the shelter", known, timeout=90)
        return service_id

    def file_cases(self, start: int = 0) -> None:
        """Consent and a shelter need for cases `start`.. `self.cases - 1`; every step retried
        until acknowledged."""
        for i in range(start, self.cases):
            key = f"{self.run}-{i}"
            case = self.request(
                "intake",
                "POST",
                "/cases",
                "chris",
                {
                    "kind": "survivor-support",
                    "person": {"display_name": f"Fault Person {i}", "estimated_age": 16},
                },
                key=f"{key}-case",
            )
            assert case.status_code in (200, 201), case.text
            case_id = case.json()["id"]
            self.case_ids.append(case_id)
            self.outcome.acknowledged += 1
            if self.poison and i == 0:
                # Ahead of this case's own events in its partition: they must still get through.
                self.inject_poison(case_id)
            consent = self.request(
                "intake",
                "POST",
                f"/cases/{case_id}/consents",
                "chris",
                {"purpose": "services", "partner_kinds": ["shelter"]},
                key=f"{key}-consent",
            )
            assert consent.status_code in (200, 201), consent.text
            self.outcome.acknowledged += 1
            needs = self.request(
                "intake",
                "POST",
                f"/cases/{case_id}/needs-assessments",
                "chris",
                {
                    "needs": [{"kind": "shelter", "urgency": "high"}],
                    "women_only_shelter": True,
                    "languages": ["ti"],
                },
                key=f"{key}-needs",
            )
            assert needs.status_code in (200, 201), needs.text
            self.outcome.acknowledged += 1
            self.acked_needs.add(case_id)
            if self.remaining:
                self._pace(case_id)

    def file_tracing(self) -> None:
        """`self.tracing` missing-person cases, each with tracing consent and a report that
        registry's person index stores (its consumer's points meet a record of its own)."""
        for i in range(len(self.tracing_refs), self.tracing):
            key = f"{self.run}-trace-{i}"
            ask = functools.partial(self.request, "intake", "POST", user="ana", purpose="tracing")
            case = ask(path="/cases", body={"kind": "missing-person"}, key=f"{key}-case")
            assert case.status_code in (200, 201), case.text
            case_id = case.json()["id"]
            self.outcome.acknowledged += 1
            consent = ask(
                path=f"/cases/{case_id}/consents", body={"purpose": "tracing"}, key=f"{key}-consent"
            )
            assert consent.status_code in (200, 201), consent.text
            self.outcome.acknowledged += 1
            report = ask(
                path=f"/cases/{case_id}/missing-person-reports",
                body=missing_report(self.run, i),
                key=f"{key}-report",
            )
            assert report.status_code in (200, 201), report.text
            self.outcome.acknowledged += 1
            self.tracing_refs[case_id] = f"intake/missing-person/{report.json()['id']}"
            if self.remaining:
                crashes = len(self.outcome.crashes)

                def through(case_id: str = case_id, crashes: int = crashes) -> bool:
                    self.supervise()
                    return len(self.outcome.crashes) > crashes or bool(self.indexed().get(case_id))

                until(
                    f"registry to index tracing case {case_id}", through, timeout=120, interval=0.5
                )

    def indexed(self) -> Counter[str]:
        """Tracing case id -> person index entries registry holds for it."""
        ids = [uuid.UUID(c) for c in self.tracing_refs]
        if not ids:
            return Counter()
        try:
            with self._engine("registry").connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT case_id, count(*) FROM person_index_entry "
                        "WHERE case_id = ANY(:ids) GROUP BY case_id"
                    ),
                    {"ids": ids},
                ).all()
        except sa.exc.ProgrammingError:
            return Counter()  # the table is not there yet (migrations still running)
        return Counter({str(c): int(n) for c, n in rows})

    def _pace(self, case_id: str, timeout: float = 120.0) -> None:
        """While crash points are still due, let each case through (or the next crash come)
        before filing the next one, so every point of the chain meets fresh traffic."""
        crashes = len(self.outcome.crashes)

        def through() -> bool:
            self.supervise()
            if len(self.outcome.crashes) > crashes:
                return True
            if not self._per_case("referral", "referral").get(case_id):
                return False
            return self.referral_ids() <= set(self.offers())

        until(f"case {case_id} to be referred and offered", through, timeout=timeout, interval=0.5)

    # ---- checks --------------------------------------------------------------------------

    def _engine(self, svc: str) -> sa.Engine:
        if svc not in self._engines:
            self._engines[svc] = sa.create_engine(self.db[svc], pool_pre_ping=True)
        return self._engines[svc]

    def _scalar(self, svc: str, sql: str, **params: Any) -> int:
        try:
            with self._engine(svc).connect() as conn:
                return int(conn.execute(sa.text(sql), params).scalar_one())
        except sa.exc.ProgrammingError:
            return 0  # the table is not there yet (migrations still running)

    def _per_case(self, svc: str, table: str) -> Counter[str]:
        ids = [uuid.UUID(c) for c in self.case_ids]
        if not ids:
            return Counter()
        with self._engine(svc).connect() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT case_id, count(*) FROM {table} WHERE case_id = ANY(:ids) "  # noqa: S608
                    "GROUP BY case_id"
                ),
                {"ids": ids},
            ).all()
        return Counter({str(c): int(n) for c, n in rows})

    def pending(self, upto: dict[str, int] | None = None) -> dict[str, int]:
        """Unsent outbox rows per service (with `upto`, only rows up to that `seq`)."""
        if upto is None:
            return {
                svc: self._scalar(svc, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                for svc in SERVICES
            }
        return {
            svc: self._scalar(
                svc,
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND seq <= :upto",
                upto=upto.get(svc, 0),
            )
            for svc in SERVICES
        }

    def outbox_heads(self) -> dict[str, int]:
        """The newest outbox `seq` per service (0: none yet)."""
        return {
            svc: self._scalar(svc, "SELECT coalesce(max(seq), 0) FROM outbox") for svc in SERVICES
        }

    def referral_ids(self) -> set[str]:
        ids = [uuid.UUID(c) for c in self.case_ids]
        with self._engine("referral").connect() as conn:
            return {
                str(r)
                for r in conn.execute(
                    sa.text("SELECT id FROM referral WHERE case_id = ANY(:ids)"), {"ids": ids}
                ).scalars()
            }

    def offers(self) -> dict[str, set[str]]:
        """Referral id → distinct event ids of its offers, on the topic of whichever partner
        the scenario's referral offered it to.

        Only offers the scenario's referral staged in its outbox count: `intake.case` and
        `registry.provider` are shared with every other referral process on the broker (other
        suites, benchmarks), which may refer the scenario's cases to its shelter too and offer
        them, under the same deterministic referral id, on the same partner topic. And the
        scenario's referral learns the other suites' shelters from `registry.provider`: one as
        fit as the scenario's own may get a case (then its offer is on that partner's topic).
        """
        with self._engine("referral").connect() as conn:
            own = {
                str(i): str(p or "")
                for i, p in conn.execute(
                    sa.text("SELECT id, payload->>'partner_org' FROM outbox WHERE type = :t"),
                    {"t": OFFERED},
                )
            }
        mine = partner_topic(self.partner)
        topics = {mine} | {partner_topic(p) for p in own.values() if p}
        out: dict[str, set[str]] = {}
        o = self.outcome
        o.offer_records = o.foreign_offer_records = o.offers_to_other_partners = 0
        for topic in sorted(topics):
            for record in read_topic(self.stack.kafka_bootstrap, topic):
                if header(record, "ce_type") != OFFERED:
                    continue
                if header(record, "ce_id") not in own:
                    o.foreign_offer_records += topic == mine
                    continue
                o.offer_records += 1
                o.offers_to_other_partners += topic != mine
                out.setdefault(record.key.decode(), set()).add(header(record, "ce_id"))
        return out

    def converged(self) -> bool:
        """Every acknowledged need referred and offered, every tracing report indexed, and
        then every outbox drained up to its newest row at that moment.

        The drain has a fixed horizon: the scenario's consumers read topics other processes on
        a shared broker write to (`intake.case`, `registry.provider`, ...), and under a steady
        stream of their events an outbox may never be empty at one instant, although no row
        stays behind. Every row of the scenario's own is under the horizon (the effects that
        stage them have happened), so a row the relay never publishes still fails the check.
        """
        self.supervise()
        if set(self._per_case("referral", "referral")) < self.acked_needs:
            return False
        if set(self.indexed()) < set(self.tracing_refs):
            return False
        if not self.referral_ids() <= set(self.offers()):
            return False
        if self._horizon is None:
            self._horizon = self.outbox_heads()
        return not any(self.pending(self._horizon).values())

    def wait_converged(self, timeout: float = 120.0) -> None:
        """Wait for convergence; record the time since the last fault (restart) or since now."""
        self._horizon = None
        try:
            until("the services to converge", self.converged, timeout=timeout, interval=0.5)
        except HarnessError as exc:
            raise HarnessError(f"{exc}; still missing: {self.missing()}") from None
        self.outcome.converge_seconds = round(time.monotonic() - self._last_fault, 2)

    def missing(self) -> dict[str, Any]:
        """What convergence still waits for (for the error message)."""
        try:
            referred = set(self._per_case("referral", "referral"))
            mine = self.referral_ids()
            offered = set(self.offers())
            return {
                "needs_not_referred": len(self.acked_needs - referred),
                "referrals_not_offered": len(mine - offered),
                "tracing_not_indexed": len(set(self.tracing_refs) - set(self.indexed())),
                "outbox_pending": self.pending(),
                "outbox_pending_to_horizon": self._horizon and self.pending(self._horizon),
            }
        except Exception as exc:  # noqa: BLE001 - a description, not a check
            return {"error": type(exc).__name__}

    def check(self) -> Outcome:
        """Count effects; fill `lost`, `duplicated` and `problems` (afresh at each call)."""
        o = self.outcome
        o.lost, o.duplicated, o.problems = 0, 0, []
        assessments = self._per_case("intake", "intake_needs_assessment")
        consents = self._per_case("intake", "intake_consent")
        referrals = self._per_case("referral", "referral")
        offers = self.offers()
        indexed = self.indexed()
        o.tracing_records = len(self.tracing_refs)
        o.indexed = sum(indexed.values())
        o.assessments = sum(assessments.values())
        o.referrals = sum(referrals.values())
        # Offers of the scenario's own cases (its referral also refers other suites' cases on
        # the shared topic to its shelter: their offers are not counted).
        mine = self.referral_ids()
        o.offers = sum(len(offers.get(r, ())) for r in mine)
        # Up to the horizon convergence set (all of them when `check` runs on its own);
        # rows staged later for other processes' events are counted apart.
        o.outbox_pending = self.pending(self._horizon)
        if self._horizon is not None:
            later = self.pending()
            o.outbox_pending_after_horizon = {s: later[s] - o.outbox_pending[s] for s in later}
        for case_id in sorted(self.acked_needs):
            for what, counter in (
                ("needs assessment", assessments),
                ("consent", consents),
                ("referral", referrals),
            ):
                n = counter.get(case_id, 0)
                if n == 0:
                    o.lost += 1
                    o.problems.append(f"case {case_id}: no {what}")
                elif n > 1:
                    o.duplicated += n - 1
                    o.problems.append(f"case {case_id}: {n} of {what}")
        for case_id in sorted(self.tracing_refs):
            n = indexed.get(case_id, 0)
            if n != 1:
                o.lost += n == 0
                o.duplicated += max(0, n - 1)
                o.problems.append(f"tracing case {case_id}: {n} person index entries")
        for referral_id in sorted(mine):
            n = len(offers.get(referral_id, ()))
            if n == 0:
                o.lost += 1
                o.problems.append(f"referral {referral_id}: never offered")
            elif n > 1:
                o.duplicated += n - 1
                o.problems.append(f"referral {referral_id}: {n} distinct offers")
        if any(o.outbox_pending.values()):
            o.problems.append(f"outbox not drained: {o.outbox_pending}")
        o.dead_letters = self.dead_letters()
        o.intake_topic_records = (
            topic_size(self.stack.kafka_bootstrap, INTAKE_TOPIC) - self._intake_topic_start
        )
        return o

    def run_flow(
        self, converge_timeout: float = 120.0, crash_wait: float = 60.0, extra_cases: int = 4
    ) -> Outcome:
        """Seed, file the cases (up to `extra_cases` more while crash points are still due),
        wait for the crashes still due, converge, count."""
        self.seed_provider()
        self.file_cases()
        for _ in range(extra_cases):
            if not self.remaining:
                break
            self.cases += 1
            self.file_cases(start=self.cases - 1)
        self.file_tracing()
        if self.remaining:
            # Points of the relay and consumers may fire a little after the last request.
            def all_fired() -> bool:
                self.supervise()
                return not self.remaining

            try:
                until(
                    f"{self.target} to reach {format_specs(self.remaining)}",
                    all_fired,
                    timeout=crash_wait,
                )
            except HarnessError:
                pass  # reported as `unreached`; the tests decide
        self.outcome.unreached = [s.point for s in self.remaining]
        self.wait_converged(converge_timeout)
        self.check()
        self.outcome.seconds = round(time.monotonic() - self._started, 1)
        return self.outcome

    # ---- poison and duplicates -----------------------------------------------------------

    def inject_poison(self, case_id: str) -> None:
        """Two bad records keyed by `case_id` on intake's topic: unreadable JSON, and a
        version of the needs event no service knows."""
        good = Envelope.wrap(
            NeedsAssessed.example().model_copy(update={"case_id": uuid.UUID(case_id)}),
            "/haven/intake",
        )
        headers = good.kafka_headers()
        unknown = [
            (k, b"haven.intake.needs.assessed.v99" if k == "ce_type" else v) for k, v in headers
        ]
        offsets = produce_raw(
            self.stack.kafka_bootstrap,
            INTAKE_TOPIC,
            [
                (case_id.encode(), b'{"case_id": "' + case_id.encode() + b'", not json', headers),
                (case_id.encode(), good.body(), unknown),
            ],
        )
        self.poison_offsets = {"malformed": offsets[0], "unknown-version": offsets[1]}
        self.outcome.poison_sent += 2

    def replay_case_events(self) -> int:
        """Put every intake event of the scenario's cases on the topic once more, byte for
        byte (same event ids); return how many."""
        keys = {c.encode() for c in self.case_ids}
        records = [
            (r.key, r.value, list(r.headers or ()))
            for r in read_topic(self.stack.kafka_bootstrap, INTAKE_TOPIC)
            if r.key in keys and header(r, "ce_source") == "/haven/intake"
        ]
        produce_raw(self.stack.kafka_bootstrap, INTAKE_TOPIC, records)
        self.outcome.duplicates_sent += len(records)
        return len(records)

    def consumed_to_end(self) -> bool:
        """True when referral's intake consumer has committed offsets up to the topic's end."""
        group = f"fault-{self.run}-intake"
        consumer = KafkaConsumer(
            bootstrap_servers=self.stack.kafka_bootstrap, group_id=group, enable_auto_commit=False
        )
        try:
            parts = [
                TopicPartition(INTAKE_TOPIC, p)
                for p in sorted(consumer.partitions_for_topic(INTAKE_TOPIC) or ())
            ]
            ends = consumer.end_offsets(parts)
            return all((consumer.committed(tp) or 0) >= ends[tp] for tp in parts)
        finally:
            consumer.close(autocommit=False)

    def dead_letters(self) -> list[dict[str, Any]]:
        """Referral's dead letters of intake's topic."""
        with self._engine("referral").connect() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(
                    sa.text(
                        'SELECT consumer, topic, partition, "offset", event_type, reason, attempts '
                        "FROM dead_letter WHERE topic = :t ORDER BY id"
                    ),
                    {"t": INTAKE_TOPIC},
                )
            ]


def missing_report(run: str, i: int) -> dict[str, Any]:
    """A missing-person report shared with tracing services; names differ per scenario."""
    return {
        "names": [{"text": f"Fault Sought {run} {i}", "script": "Latn", "romanised": True}],
        "sex": "male",
        "date_of_birth": "1994-03-12",
        "nationalities": ["SD"],
        "languages": ["ar"],
        "sharing_scope": ["tracing-service"],
        "last_seen": {
            "place": "Agadez, Niger",
            "date": "2026-05-01",
            "circumstances": "desert-crossing",
        },
        "enquirer": {
            "name": "Fault Enquirer",
            "relationship": "sibling",
            "contact": "+249 000 000 000",
        },
    }


def produce_raw(
    bootstrap: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]],
) -> list[tuple[int, int]]:
    """Put records on `topic` byte for byte (poison, or duplicates of earlier records);
    return each one's (partition, offset)."""
    producer = make_producer(bootstrap, client_id="haven-fault-harness")
    try:
        futures = [
            producer.send(topic, key=key, value=value, headers=headers)
            for key, value, headers in records
        ]
        producer.flush(30)
        return [(m.partition, m.offset) for m in (f.get(timeout=30) for f in futures)]
    finally:
        producer.close(timeout=5)


def to_json(outcomes: Iterable[Outcome]) -> str:
    """Outcomes as JSON text (for logs and the bench results)."""
    return json.dumps([o.as_dict() for o in outcomes], indent=2, default=str)
