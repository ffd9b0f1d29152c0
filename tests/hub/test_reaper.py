"""The hub's keeper without a hub: what it holds dies with it, across sessions and uids,
even when the keeper itself is SIGKILLed, and cgroups of runners that are gone are
cleaned up by the next one. (tests/hub/test_orphans.py does the same with real hubs.)"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from dlclab.hub import reaper

DEADLINE_S = 120.0


def with_marker(marker: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        if p.info["status"] != psutil.STATUS_ZOMBIE and marker in " ".join(p.info["cmdline"] or []):
            found.append(p)
    return found


def wait_gone(marker: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not with_marker(marker), with_marker(marker)


def sleepers(marker: str) -> list[str]:
    """A shell starting a new-session sleeper and another as 'nobody', then waiting."""
    sleeper = f"{sys.executable} -c 'import time; time.sleep(3600)' {marker}"
    return ["sh", "-c", f"setsid {sleeper} & runuser -u nobody -- setsid {sleeper} & wait"]


def wait_for(marker: str, count: int) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while len(with_marker(marker)) < count:
        assert time.monotonic() < deadline, "the sleepers did not start"
        time.sleep(0.2)


def test_a_sigkilled_keeper_still_leaves_nothing():
    marker = f"dlclab-keeper-test-{time.time_ns()}"
    keeper = reaper.Keeper(grace_s=1.0)
    keeper.start(sleepers(marker), Path(sys.executable), stdout=subprocess.DEVNULL)
    assert keeper.cgroup is not None, "no writable cgroup v2 on this machine"
    wait_for(marker, 2)
    keeper.process.send_signal(signal.SIGKILL)  # the keeper: the runner kills its cgroup
    keeper.process.wait(DEADLINE_S)
    ending = keeper.finish()
    assert ending.hub_exit is None and "keeper ended" in ending.reason
    wait_gone(marker)
    assert not keeper.cgroup.exists()


def test_the_cgroup_of_a_runner_that_is_gone_is_reaped():
    marker = f"dlclab-abandoned-test-{time.time_ns()}"
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid whose process is no more: the "runner" SIGKILLed with its keeper
    parent = reaper.own_cgroup()
    cgroup = parent / (f"{reaper.CGROUP_PREFIX}{os.stat('/proc/self/ns/pid').st_ino}-"
                       f"{gone.pid}-0badcafe")
    cgroup.mkdir()
    try:
        # the shell moves itself into the cgroup, then starts the sleepers there
        join = f'echo $$ > "{cgroup}/cgroup.procs" && exec "$@"'
        child = subprocess.Popen(["sh", "-c", join, "sh", *sleepers(marker)],
                                 stdout=subprocess.DEVNULL)
        wait_for(marker, 2)
        assert cgroup in reaper.reap_abandoned()
        child.wait(DEADLINE_S)
        wait_gone(marker)
        assert not cgroup.exists()
    finally:
        reaper.kill_cgroup(cgroup)
        reaper.remove_cgroup(cgroup)
