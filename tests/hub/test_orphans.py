"""Nothing outlives its owner: a hub SIGKILLed at any point (after its start, while a
user's server and a dask cluster run, during its start) and a `dlclab lab` SIGKILLed
leave no process of their lab behind, whatever account those processes run as.

What belongs to a lab is read from the real process table, independently of the keeper
under test: a process is the lab's if its environment or command line names the lab's
temporary folder (the settings every hub-side process carries) or its hub API port (every
service, user server and kernel gets ``JUPYTERHUB_API_URL``), if its working directory
is inside that folder, if it is in the lab's cgroup, or if it runs as one of the lab's
test users (their servers, kernels, dask schedulers and workers)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from dlclab.errors import DlclabError
from dlclab.hub.services import free_port
from tests.hub_harness import LabHub

pytestmark = pytest.mark.hub

#: generous: a loaded two-core machine; the tests wait on events, never on time
DEADLINE_S = 240.0


@dataclass
class LabMarks:
    """What identifies one lab's processes (see the module docstring)."""

    folder: Path
    hub_port: int
    users: set[str] = field(default_factory=set)
    cgroup: str | None = None

    @classmethod
    def of(cls, hub: LabHub) -> LabMarks:
        cgroup = hub.runner.keeper.cgroup if hub.runner.keeper else None
        return cls(hub.workdir, hub.settings.hub_port, {u.name for u in hub.users},
                   cgroup.name if cgroup else None)

    def matches(self, p: psutil.Process) -> bool:
        try:
            if p.username() in self.users:
                return True
            text = " ".join(p.cmdline()) + " " + " ".join(f"{k}={v}" for k, v in p.environ().items())
            if str(self.folder) in text or f"127.0.0.1:{self.hub_port}/hub/" in text:
                return True
            if p.cwd().startswith(str(self.folder)):
                return True
            if self.cgroup and self.cgroup in Path(f"/proc/{p.pid}/cgroup").read_text():
                return True
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            return False
        return False


def lab_processes(marks: LabMarks) -> list[str]:
    """The lab's live processes, described (not counting this test process)."""
    found = []
    for p in psutil.process_iter():
        if p.pid == os.getpid():
            continue
        try:
            if p.status() == psutil.STATUS_ZOMBIE or not marks.matches(p):
                continue
            found.append(f"pid {p.pid} {p.username()}: {' '.join(p.cmdline())[:150]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def wait_until_none_left(marks: LabMarks) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while lab_processes(marks) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = lab_processes(marks)
    assert not left, "left behind by the killed hub:\n" + "\n".join(left)


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def assert_running(processes: list[str], *programs: str) -> None:
    """The oracle sees the parts of the lab the test is about (else it proves nothing)."""
    text = "\n".join(processes)
    missing = [name for name in programs if not re.search(name, text)]
    assert not missing, f"{missing} not among the lab's processes:\n{text}"


def kill_hub_and_check(hub: LabHub, marks: LabMarks) -> None:
    """SIGKILL the hub; its keeper stops the rest; nothing of the lab remains."""
    os.kill(hub.runner.hub_pid, signal.SIGKILL)
    hub.runner.process.wait(DEADLINE_S)  # the keeper, once it has stopped everything
    hub.runner.stop()
    ending = hub.runner.ending
    assert ending.hub_exit == -signal.SIGKILL and ending.reason == "ended by itself", ending
    assert ending.left == [], ending.describe()
    wait_until_none_left(marks)
    if marks.cgroup:
        assert not hub.runner.keeper.cgroup.exists(), "the lab's cgroup was not removed"


# services every lab runs: the proxy, dask-gateway and its proxy, the culler, the
# aggregation service (as dlclab-service) and the course's formgrader (as its grader)
HUB_SIDE = ["dlclab.hub.app", "configurable-http-proxy", "dask-gateway-server",
            "dask-gateway-proxy", "dlclab.hub.culler", "dlclab-service: .*dlclab.service",
            "grader-.*jupyterhub-singleuser|nbgrader"]


@pytest.mark.parametrize("use_cgroup", [True, False], ids=["cgroup", "subreaper-only"])
def test_a_hub_killed_after_its_start_leaves_nothing(lab_data_root, use_cgroup):
    hub = LabHub(data_root=lab_data_root)
    hub.runner.use_cgroup = use_cgroup
    with hub:
        marks = LabMarks.of(hub)
        assert (marks.cgroup is not None) == use_cgroup  # this machine has a cgroup v2
        assert_running(lab_processes(marks), *HUB_SIDE)
        kill_hub_and_check(hub, marks)


def test_a_hub_killed_while_a_server_and_a_cluster_run_leaves_nothing(lab_data_root):
    hub = LabHub(users={"ursula": ["kascade"]}, data_root=lab_data_root)
    with hub:
        hub.start_server("ursula", timeout_s=DEADLINE_S)
        kernel = hub.kernel("ursula")
        kernel.execute("from dask_gateway import Gateway\n"
                       "cluster = Gateway().new_cluster(shutdown_on_close=False)\n"
                       "cluster.scale(1)\n"
                       "client = cluster.get_client()\n"
                       "client.wait_for_workers(1, timeout=200)\n"
                       "print(client.submit(sum, [1, 2]).result())")
        marks = LabMarks.of(hub)
        user = hub.user("ursula").name
        assert_running(lab_processes(marks), *HUB_SIDE, f"{user}: .*jupyterhub-singleuser",
                       f"{user}: .*ipykernel", f"{user}: .*dask.*scheduler",
                       f"{user}: .*dask.*worker")
        kill_hub_and_check(hub, marks)


def test_a_hub_killed_during_its_start_leaves_nothing(lab_data_root):
    marker = f"dlclab-slow-to-start-{time.time_ns()}"
    # a service that never answers: the hub waits for it, its other services running
    slow = {"name": "slow", "url": "http://127.0.0.1:{port}",
            "command": ["{python}", "-c", "import time; time.sleep(3600)", marker]}
    hub = LabHub(data_root=lab_data_root, extra_services=[slow],
                 settings={"service_start_timeout_s": 3600.0})
    failure: list[BaseException] = []

    def start() -> None:
        try:
            with hub:
                pass
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            failure.append(error)

    starting = threading.Thread(target=start)
    starting.start()
    try:
        wait_for(lambda: any(marker in " ".join(p.info["cmdline"] or [])
                             for p in psutil.process_iter(["cmdline"])), "the slow service")
        marks = LabMarks.of(hub)
        assert_running(lab_processes(marks), "dlclab.hub.app", "configurable-http-proxy",
                       "dask-gateway-server", marker)
        os.kill(hub.runner.hub_pid, signal.SIGKILL)
    finally:
        starting.join(DEADLINE_S)
    assert failure and isinstance(failure[0], DlclabError), failure
    assert "killed by SIGKILL" in str(failure[0]), failure[0]
    assert hub.runner.ending.left == [], hub.runner.ending.describe()
    wait_until_none_left(marks)


# ---- `dlclab lab` ---------------------------------------------------------------------
def start_dlclab_lab(tmp_path: Path, data_root: Path,
                     run: int = 1) -> tuple[subprocess.Popen, Path, LabMarks]:
    """`dlclab lab` in the background, its output in a file; returns once it is up."""
    ports = {f"--{name}": str(free_port()) for name in
             ("port", "hub-port", "proxy-api-port", "gateway-port", "scheduler-port")}
    state, output = tmp_path / "state", tmp_path / f"lab-{run}.out"
    cmd = [str(Path(sys.executable).parent / "dlclab"), "lab", "--data-root", str(data_root),
           "--state-dir", str(state), *[x for kv in ports.items() for x in kv]]
    with open(output, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    marks = LabMarks(state, int(ports["--hub-port"]))

    def up() -> bool:
        assert proc.poll() is None, output.read_text(errors="replace")[-3000:]
        return "dlclab lab is running" in output.read_text(errors="replace")

    wait_for(up, "dlclab lab to come up")
    return proc, output, marks


def hub_of(proc: subprocess.Popen) -> psutil.Process:
    hubs = [p for p in psutil.Process(proc.pid).children(recursive=True)
            if p.cmdline()[1:3] == ["-m", "dlclab.hub.app"]]  # not its keeper
    assert len(hubs) == 1, hubs
    return hubs[0]


def test_dlclab_lab_says_it_stopped_everything_when_its_hub_is_killed(tmp_path, lab_data_root):
    proc, output, marks = start_dlclab_lab(tmp_path, lab_data_root)
    try:
        assert "Should the hub die, dlclab lab stops all the rest too" in output.read_text()
        assert_running(lab_processes(marks), *HUB_SIDE)
        hub_of(proc).send_signal(signal.SIGKILL)
        proc.wait(DEADLINE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    said = output.read_text(errors="replace")
    assert proc.returncode == 1, said[-2000:]
    assert "dlclab lab: the hub was killed by SIGKILL; stopped the" in said, said[-2000:]
    assert "dask-gateway-server" in said.split("dlclab lab: the hub was killed")[1]
    assert "dlclab lab: not restarting: everything the hub had started was stopped" in said
    wait_until_none_left(marks)
    # what it advises works: a new `dlclab lab` on the same state starts and stops cleanly
    again, output, marks = start_dlclab_lab(tmp_path, lab_data_root, run=2)
    again.send_signal(signal.SIGINT)
    again.wait(DEADLINE_S)
    assert again.returncode in (0, 130), output.read_text(errors="replace")[-2000:]
    wait_until_none_left(marks)


def test_a_killed_dlclab_lab_leaves_nothing(tmp_path, lab_data_root):
    proc, output, marks = start_dlclab_lab(tmp_path, lab_data_root)
    try:
        assert_running(lab_processes(marks), *HUB_SIDE)
    finally:
        proc.send_signal(signal.SIGKILL)  # the runner itself: its keeper stops the hub
        proc.wait(DEADLINE_S)
    wait_until_none_left(marks)
    assert "the hub lost its runner" in output.read_text(errors="replace")
