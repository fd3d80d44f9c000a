"""No service process outlives the harness that started it.

A stand-in service (a Python process that starts a child of its own and sleeps) is started the
way the harness starts intake, registry and referral. Stopping it kills its whole process group;
a driver that has started one and then dies by SIGTERM or Ctrl-C (or an error: the same
exit path) leaves nothing behind, and one that is SIGKILLed takes the service with it (parent-death signal). No stack
needed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from harness import ServiceProcess

HERE = Path(__file__).resolve().parent

#: The stand-in service: writes its pid and its child's, then sleeps.
SERVICE = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    open(sys.argv[1], "w").write(f"{__import__('os').getpid()} {child.pid}")
    time.sleep(600)
    """
)


class StandIn(ServiceProcess):
    def command(self) -> list[str]:
        return [sys.executable, "-c", SERVICE, str(self.log_dir / "pids")]


def gone(pid: int) -> bool:
    """True when `pid` no longer runs (a zombie waiting for its new parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")


def wait_for(what: str, probe, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def pids(path: Path) -> list[int]:
    text = path.read_text() if path.exists() else ""
    return [int(p) for p in text.split()] if len(text.split()) == 2 else []


def test_stopping_a_service_kills_its_whole_process_group(tmp_path: Path) -> None:
    svc = StandIn("standin", 0, dict(os.environ), tmp_path)
    svc.start()
    leader, child = wait_for("the stand-in to start", lambda: pids(tmp_path / "pids"))
    svc.stop(grace=5)
    assert svc.proc is None
    wait_for("both processes to be gone", lambda: gone(leader) and gone(child), timeout=10)


DRIVER = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started ignoring it
    sys.path.insert(0, {here!r})
    from harness import exit_on_signals
    from test_cleanup import StandIn
    exit_on_signals()
    svc = StandIn("standin", 0, dict(os.environ), Path(sys.argv[1]))
    svc.start()
    time.sleep(600)
    """
)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_a_runner_that_dies_leaves_no_service_behind(tmp_path: Path, how: str) -> None:
    driver = subprocess.Popen(  # noqa: S603 - our own test driver
        [sys.executable, "-c", DRIVER.format(here=str(HERE)), str(tmp_path), how],
        start_new_session=True,  # our own signals stay ours; SIGINT is not ignored there
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        leader, child = wait_for("the stand-in to start", lambda: pids(tmp_path / "pids"), 60)
        driver.send_signal(getattr(signal, how))
        driver.wait(timeout=30)
        wait_for(f"the service to die after the runner's {how}", lambda: gone(leader), 10)
        if how != "SIGKILL":  # no clean-up runs then: the death signal reaches the leader only
            wait_for("the service's own child to die", lambda: gone(child), 10)
    finally:
        if driver.poll() is None:
            driver.kill()
        for pid in pids(tmp_path / "pids"):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
