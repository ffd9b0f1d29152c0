"""Nothing outlives the lab's hub: a keeper process that holds everything the hub started.

JupyterHub starts its proxy, its managed services and the users' servers each in a
session of its own; a hub that is SIGKILLed (or crashes) leaves them running with no
parent, some as other accounts (dlclab-service, a course's grader, the users). So the
hub does not run as a child of ``dlclab lab`` directly but under a *keeper*
(``python -m dlclab.hub.reaper``, started by :class:`Keeper`):

* the keeper puts the hub into a **cgroup v2 of its own** (``dlclab-lab-<pidns>-<runner pid>-<hex>``
  under the runner's cgroup) before the hub runs: every process the hub or its children
  start, whatever its session, uid or double-forking, is born in it, and one write to
  ``cgroup.kill`` kills them all, across uids, with no race against forks;
* the keeper is also a **child subreaper** (``PR_SET_CHILD_SUBREAPER``): orphans of the
  hub become the keeper's children instead of init's, so where no cgroup v2 can be made
  (no cgroup2 mount, not writable) the keeper still finds every one of them by walking
  its descendants in ``/proc`` (and reaps them: no zombies);
* when the hub ends, in any way, the keeper stops what is left: SIGTERM to every
  remaining process, a grace period, then ``cgroup.kill`` (and SIGKILL to descendants),
  until none remains; then it reports what it stopped and exits with the hub's status;
* the keeper holds one end of a socket pair whose other end only the runner has: if the
  runner dies (even by SIGKILL) the keeper reads EOF and stops the hub and everything.
  If the keeper itself is SIGKILLed, the runner kills the cgroup (it created it), and
  the next runner on the machine kills cgroups left by runners that are gone.

Why not ``PR_SET_PDEATHSIG`` in each service: it fires when the *thread* that forked
the process exits, not only when its parent process dies, it is cleared when a process
changes its uid or execs a setuid binary (services run as other accounts), and it would
have to be set in code JupyterHub and dask-gateway own. The cgroup and the subreaper
need no cooperation from the processes they hold.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dlclab.errors import DlclabError

#: name prefix of the lab's cgroups; the runner's pid namespace and pid follow
#: (``dlclab-lab-<pidns inode>-<pid>-<hex>``, see :func:`reap_abandoned`)
CGROUP_PREFIX = "dlclab-lab-"
PR_SET_CHILD_SUBREAPER = 36
#: after the hub ended: how long its leftovers get to exit after SIGTERM before SIGKILL
DEFAULT_GRACE_S = 10.0
#: how long the keeper lets the hub stop in order when its runner is gone
OWNER_GONE_GRACE_S = 60.0
#: how long killed processes may take to disappear before the keeper reports them left
KILL_DEADLINE_S = 60.0


# ---- cgroup v2 -----------------------------------------------------------------------
def cgroup2_mount() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (``/sys/fs/cgroup`` on a pure v2 system,
    ``/sys/fs/cgroup/unified`` on a hybrid one), or None."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        parts = line.split()
        if len(parts) > 2 and parts[2] == "cgroup2":
            return Path(parts[1])
    return None


def own_cgroup() -> Path | None:
    """This process's cgroup v2 directory, or None."""
    mount = cgroup2_mount()
    if mount is None:
        return None
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                return mount / line[3:].lstrip("/")
    except OSError:
        pass
    return None


def new_lab_cgroup() -> Path | None:
    """A new, empty cgroup for one hub, beside nothing else of ours; None where cgroup v2
    cannot be used (no mount, no permission, no ``cgroup.kill`` before Linux 5.14)."""
    parent = own_cgroup()
    if parent is None:
        return None
    path = parent / f"{CGROUP_PREFIX}{_pid_namespace()}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        path.mkdir()
    except OSError:
        return None
    if not (path / "cgroup.kill").exists() or not os.access(path / "cgroup.procs", os.W_OK):
        remove_cgroup(path)
        return None
    return path


def join_cgroup(path: Path) -> None:
    """Move the calling process into ``path`` (its future children are born there)."""
    with open(path / "cgroup.procs", "w") as f:
        f.write(str(os.getpid()))


def cgroup_pids(path: Path) -> list[int]:
    """Processes of the cgroup and of any cgroup below it."""
    pids: list[int] = []
    for folder, _, _ in os.walk(path):
        try:
            pids += [int(p) for p in Path(folder, "cgroup.procs").read_text().split()]
        except OSError:
            pass  # removed meanwhile
    return pids


def kill_cgroup(path: Path) -> None:
    """SIGKILL every process of the cgroup (and below), new forks included."""
    try:
        (path / "cgroup.kill").write_text("1")
    except OSError:
        pass  # removed already


def remove_cgroup(path: Path) -> bool:
    """Remove an empty cgroup (and its empty children); False if processes remain."""
    try:
        for folder, _, _ in os.walk(path, topdown=False):  # a cgroup's files go with it
            os.rmdir(folder)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return not path.exists()


def _pid_namespace() -> int:
    """The inode of our pid namespace: a pid means the same process only within it."""
    return os.stat("/proc/self/ns/pid").st_ino


def reap_abandoned() -> list[Path]:
    """Kill and remove the lab cgroups of runners that no longer exist (a runner and its
    keeper both SIGKILLed). Returns the cgroups removed."""
    parent = own_cgroup()
    removed: list[Path] = []
    if parent is None:
        return removed
    try:
        candidates = list(parent.glob(f"{CGROUP_PREFIX}*"))
    except OSError:
        return removed
    namespace = str(_pid_namespace())
    for path in candidates:
        parts = path.name[len(CGROUP_PREFIX):].split("-")
        if len(parts) != 3 or parts[0] != namespace or not parts[1].isdigit():
            continue  # another pid namespace's lab (a container): not ours to judge
        if _alive(int(parts[1])):
            continue  # its runner lives (or the pid was reused: then we leave it)
        kill_cgroup(path)
        deadline = time.monotonic() + KILL_DEADLINE_S
        while not remove_cgroup(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        removed.append(path)
    return removed


# ---- processes ------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _parents() -> dict[int, int]:
    """pid -> parent pid of every live (non-zombie) process."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[int]:
    """Live descendants of ``pid`` (all orphans of the hub, since the keeper is their
    subreaper)."""
    parents = _parents()
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def describe(pid: int) -> str:
    """A short name for a process: its program (or ``python -m`` module) and its user."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        uid = Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0]
    except (OSError, IndexError):
        return f"pid {pid}"
    args = [a.decode(errors="replace") for a in argv if a]
    if not args:
        return f"pid {pid}"
    name = Path(args[0]).name
    if name.startswith("python") and len(args) > 1:
        if args[1] in ("-m", "-c") and len(args) > 2:
            name = args[2] if args[1] == "-m" else "python -c"
        else:
            name = Path(args[1]).name
    elif name == "node" and len(args) > 1:  # configurable-http-proxy is a node script
        name = Path(args[1]).name
    elif name == "dask" and len(args) > 1:  # dask scheduler, dask worker
        name = f"dask {args[1]}"
    try:
        import pwd

        user = pwd.getpwuid(int(uid)).pw_name
    except (KeyError, ValueError):
        user = uid
    return f"{name} ({user}, pid {pid})"


# ---- the keeper process ---------------------------------------------------------------
class _KeeperLoop:
    """The keeper's state: the hub, the runner's socket, the signals received."""

    def __init__(self, command: list[str], cgroup: Path | None, control: socket.socket,
                 grace_s: float):
        self.cgroup = cgroup
        self.control = control
        self.grace_s = grace_s
        self.signals = 0
        self.hub_status: int | None = None
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        self.wake_r = wake_r
        signal.set_wakeup_fd(wake_w)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through the fd
        # the keeper has no threads: preexec_fn is safe here (it is not in the runner)
        preexec = (lambda: join_cgroup(cgroup)) if cgroup is not None else None
        self.hub = subprocess.Popen(command, preexec_fn=preexec)  # noqa: PLW1509
        self._send({"hub_pid": self.hub.pid, "cgroup": str(cgroup) if cgroup else None})

    def _on_signal(self, signum, frame) -> None:
        self.signals += 1

    def _send(self, message: dict) -> None:
        try:
            self.control.sendall((json.dumps(message) + "\n").encode())
        except OSError:
            pass  # the runner is gone; the keeper carries on alone

    def _reap(self) -> None:
        """Collect exited children (the hub and orphans handed to us)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.hub.pid:
                self.hub_status = os.waitstatus_to_exitcode(status)

    def _interrupt_hub(self) -> None:
        if self.hub_status is None:
            try:
                os.kill(self.hub.pid, signal.SIGINT)  # JupyterHub stops everything in order
            except ProcessLookupError:
                pass

    def run(self) -> dict:
        """Wait for the hub to end; then stop what it left. Returns the report."""
        owner_gone_at: float | None = None
        interrupted = 0
        reason = "ended by itself"
        while True:
            self._reap()
            if self.hub_status is not None:
                break
            if self.signals > interrupted:
                interrupted = self.signals
                if interrupted == 1:
                    reason = "was stopped"
                    self._interrupt_hub()
                else:  # asked twice: do not wait for an orderly stop
                    reason = "was stopped at once"
                    break
            if owner_gone_at is not None and time.monotonic() - owner_gone_at > OWNER_GONE_GRACE_S:
                break
            watched = [self.wake_r] + ([self.control] if owner_gone_at is None else [])
            ready, _, _ = select.select(watched, [], [], 5.0)
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
            if self.control in ready and not self.control.recv(4096):
                reason = "lost its runner"
                owner_gone_at = time.monotonic()
                self._interrupt_hub()
        stopped, left = self.stop_leftovers()
        return {"hub_exit": self.hub_status, "reason": reason, "stopped": stopped, "left": left}

    def _leftovers(self) -> list[int]:
        pids = set(descendants(os.getpid()))
        if self.cgroup is not None:
            pids |= set(cgroup_pids(self.cgroup))
        pids.discard(os.getpid())
        return sorted(p for p in pids if _alive(p))

    def stop_leftovers(self) -> tuple[list[str], list[str]]:
        """SIGTERM what the hub left, SIGKILL what is still there after the grace period,
        until nothing is left (or a deadline passes: then report the survivors)."""
        first = self._leftovers()
        stopped = [describe(p) for p in first]
        for pid in first:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        while self._leftovers() and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        deadline = time.monotonic() + KILL_DEADLINE_S
        while True:
            self._reap()
            left = self._leftovers()
            if not left:
                break
            if time.monotonic() > deadline:
                return stopped, [describe(p) for p in left]
            if self.cgroup is not None:
                kill_cgroup(self.cgroup)
            for pid in left:
                _signal(pid, signal.SIGKILL)
            time.sleep(0.1)
        if self.hub_status is None:  # killed with the rest
            self._reap()
        if self.cgroup is not None:
            remove_cgroup(self.cgroup)
        return stopped, []


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _set_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlclab.hub.reaper", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--control-fd", type=int, required=True,
                        help="socket shared with the runner: EOF means the runner is gone")
    parser.add_argument("--cgroup", type=Path, help="the hub's cgroup v2 (made by the runner)")
    parser.add_argument("--grace-s", type=float, default=DEFAULT_GRACE_S,
                        help="seconds leftovers get after SIGTERM before SIGKILL")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the hub's command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    _set_subreaper()
    control = socket.socket(fileno=args.control_fd)
    keeper = _KeeperLoop(command, args.cgroup, control, args.grace_s)
    report = keeper.run()
    if report["stopped"] or report["reason"] != "was stopped":  # into the hub's log
        stopped = ", ".join(report["stopped"]) or "nothing was left"
        print(f"dlclab: the hub {report['reason']} (status {report['hub_exit']}); stopped "
              f"what it left: {stopped}", flush=True)
    if report["left"]:
        print(f"dlclab: could not stop: {', '.join(report['left'])}", flush=True)
    keeper._send(report)
    status = report["hub_exit"]
    if status is None:
        return 1
    return 128 - status if status < 0 else status


# ---- the runner's side ----------------------------------------------------------------
@dataclass
class Ending:
    """How a hub ended: its exit status (negative: killed by that signal), why, and the
    processes it left that the keeper stopped (or could not)."""

    hub_exit: int | None
    reason: str = "ended by itself"
    stopped: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.hub_exit is None:
            how = "ended (status unknown)"
        elif self.hub_exit < 0:
            how = f"was killed by {signal.Signals(-self.hub_exit).name}"
        else:
            how = f"exited with code {self.hub_exit}"
        text = f"the hub {how}"
        if self.stopped:
            text += f"; stopped the {len(self.stopped)} processes it left: {', '.join(self.stopped)}"
        if self.left:
            text += f"; STILL RUNNING: {', '.join(self.left)}"
        return text


class Keeper:
    """The runner's handle on one hub under a keeper process (see the module docstring)."""

    def __init__(self, use_cgroup: bool = True, grace_s: float = DEFAULT_GRACE_S):
        self.use_cgroup = use_cgroup
        self.grace_s = grace_s
        self.cgroup: Path | None = None
        self.hub_pid: int | None = None
        self.process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._buffer = b""

    def start(self, command: list[str], python: Path, **popen_kwargs) -> subprocess.Popen:
        """Start ``command`` (the hub) under a keeper run by ``python``; return the
        keeper's process once the hub's pid is known."""
        if self.use_cgroup:
            reap_abandoned()
            self.cgroup = new_lab_cgroup()
        ours, theirs = socket.socketpair()
        argv = [str(python), "-m", "dlclab.hub.reaper", f"--control-fd={theirs.fileno()}",
                f"--grace-s={self.grace_s}"]
        if self.cgroup is not None:
            argv.append(f"--cgroup={self.cgroup}")
        try:
            self.process = subprocess.Popen(
                [*argv, "--", *command], pass_fds=[theirs.fileno()],
                start_new_session=True,  # a Ctrl-C reaches the runner, which stops in order
                **popen_kwargs)
        finally:
            theirs.close()
        self._control = ours
        first = self._message()
        if first is None or "hub_pid" not in first:
            self.process.wait()
            raise DlclabError(f"the hub's keeper exited with code {self.process.returncode} "
                              "before starting the hub")
        self.hub_pid = first["hub_pid"]
        return self.process

    def _message(self) -> dict | None:
        """The keeper's next report line (blocks until it comes or the keeper ends)."""
        while b"\n" not in self._buffer:
            try:
                chunk = self._control.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def interrupt(self) -> None:
        """Ask for an orderly stop (a second call: stop everything at once)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def finish(self) -> Ending:
        """After the keeper exited (wait for it first): what happened; kills the cgroup
        should the keeper itself have been killed."""
        report = self._message() if self._control is not None else None
        if self._control is not None:
            self._control.close()
            self._control = None
        if self.cgroup is not None:
            kill_cgroup(self.cgroup)
            deadline = time.monotonic() + KILL_DEADLINE_S
            while not remove_cgroup(self.cgroup) and time.monotonic() < deadline:
                time.sleep(0.1)
        if report is None:
            code = self.process.returncode if self.process is not None else None
            return Ending(hub_exit=None, reason=f"keeper ended with code {code}")
        return Ending(hub_exit=report["hub_exit"], reason=report["reason"],
                      stopped=report["stopped"], left=report["left"])


if __name__ == "__main__":
    sys.exit(main())
