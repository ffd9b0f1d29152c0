"""A local test Slurm cluster on this machine, configured, started and stopped here.

:class:`LocalSlurm` writes a private ``slurm.conf`` and munge key into one state
directory, starts ``munged``, ``slurmctld`` and one ``slurmd`` per node definition as
its own child processes (never the machine's system services, never ``/etc``), waits
until ``scontrol ping`` answers and every node is idle, and stops all of it: running
jobs are cancelled first (a job's ``slurmstepd`` outlives its ``slurmd``), then the
daemons, last munge.

Everything a client needs is in :attr:`LocalSlurm.env` (``SLURM_CONF``): the lab passes
it to dask-gateway's Slurm backend and to batchspawner. Pointed at an existing site's
``slurm.conf`` instead, the same lab code submits to that cluster (``docs/batch.md``).

Layout of the state directory (root's; 0755 so users' ``sbatch`` can read the
configuration and reach munge's socket, as on a real cluster)::

    slurm.conf          0644
    munge/              0700  munge.key (0400), seed, pid, log
    munge-socket/       0755  munge.socket.2 (munged makes it usable by everyone)
    ctld/               0700  slurmctld's state
    spool/<node>/       0755  slurmd's spool (slurmstepd of users' jobs reads it)
    log/                0700  daemons' logs and pid files
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from dlclab.errors import DlclabError

#: Debian's slurm-wlm and munge packages (``make slurm``)
DAEMONS = {"munged": "/usr/sbin/munged", "slurmctld": "/usr/sbin/slurmctld",
           "slurmd": "/usr/sbin/slurmd"}
CLIENTS = ("sinfo", "squeue", "scontrol", "scancel", "sbatch", "srun")


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def default_state_dir() -> Path:
    """Where ``dlclab lab --batch slurm`` keeps its local test cluster."""
    return Path("/srv/dlclab/slurm")


def missing_executables() -> list[str]:
    """The Slurm/munge executables this module needs that are not installed."""
    missing = [path for path in DAEMONS.values() if not os.access(path, os.X_OK)]
    missing += [name for name in CLIENTS if shutil.which(name) is None]
    return missing


@dataclass
class LocalSlurmConfig:
    """What the local cluster looks like. Memory in MiB (Slurm's unit)."""

    state_dir: Path
    #: node definitions on this host, each run by its own slurmd
    nodes: int = 2
    #: CPUs each node advertises (more than the machine has: jobs of a test cluster
    #: mostly wait, and a dask scheduler, two workers and a user's server need 4)
    cpus_per_node: int = 4
    memory_per_node_mib: int = 4096
    partition: str = "lab"
    #: longest job the partition allows (Slurm's MaxTime, in minutes)
    max_time_min: int = 24 * 60
    cluster_name: str = field(default_factory=lambda: f"dlclab{secrets.token_hex(3)}")
    ip: str = "127.0.0.1"

    @property
    def node_names(self) -> list[str]:
        return [f"{self.cluster_name}-n{i}" for i in range(1, self.nodes + 1)]


class LocalSlurm:
    """A running (or startable) local Slurm cluster; use as a context manager."""

    def __init__(self, config: LocalSlurmConfig):
        self.config = config
        self.state_dir = config.state_dir
        self._procs: dict[str, subprocess.Popen] = {}
        self._logs: list = []

    # ---- paths and client environment
    @property
    def conf_path(self) -> Path:
        return self.state_dir / "slurm.conf"

    @property
    def munge_socket(self) -> Path:
        return self.state_dir / "munge-socket" / "munge.socket.2"

    @property
    def env(self) -> dict[str, str]:
        """What every Slurm client (sbatch, squeue, scancel, ...) needs in its environment."""
        return {"SLURM_CONF": str(self.conf_path)}

    @property
    def node_addresses(self) -> dict[str, str]:
        """Each node's name (squeue's ``%B``: the name, as there are several on this
        host) -> its address (loopback)."""
        return {node: self.config.ip for node in self.config.node_names}

    def lab_settings(self) -> dict:
        """The :class:`dlclab.hub.settings.LabSettings` fields of a lab on this cluster."""
        return {"batch": "slurm", "slurm_conf": self.conf_path,
                "slurm_partition": self.config.partition,
                "slurm_node_addresses": self.node_addresses}

    def client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
        env.update(self.env)
        return env

    # ---- configuration
    def write_config(self) -> None:
        c = self.config
        s = self.state_dir
        s.mkdir(parents=True, exist_ok=True)
        os.chmod(s, 0o755)
        # a test cluster starts empty: no jobs, nodes or cluster name of an earlier run
        # (slurmctld refuses state saved under another ClusterName)
        for name in ("ctld", "spool"):
            shutil.rmtree(s / name, ignore_errors=True)
        for name, mode in (("munge", 0o700), ("munge-socket", 0o755), ("ctld", 0o700),
                           ("spool", 0o755), ("log", 0o700)):
            (s / name).mkdir(exist_ok=True)
            os.chmod(s / name, mode)
        for node in c.node_names:
            (s / "spool" / node).mkdir(exist_ok=True)
            os.chmod(s / "spool" / node, 0o755)  # slurmstepd (as the job's user) reads it
        key = s / "munge" / "munge.key"
        if not key.exists():
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(1024))
        host = socket.gethostname()
        ctld_port = free_port(c.ip)
        lines = [
            f"ClusterName={c.cluster_name}",
            f"SlurmctldHost={host}({c.ip})",
            f"SlurmctldPort={ctld_port}",
            "SlurmUser=root",
            "MpiDefault=none",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={s / 'ctld'}",
            f"SlurmdSpoolDir={s / 'spool'}/%n",
            f"SlurmctldPidFile={s / 'log' / 'slurmctld.pid'}",
            f"SlurmdPidFile={s / 'log'}/slurmd-%n.pid",
            f"SlurmctldLogFile={s / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={s / 'log'}/slurmd-%n.log",
            # slurmctld wants a mail program even if nobody asks for mail
            "MailProg=/bin/true",
            # no cgroups in a test cluster (nor in most containers): plain process tracking
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            # the nodes advertise more CPUs than the machine has (see LocalSlurmConfig)
            "SlurmdParameters=config_overrides",
            "ReturnToService=2",
            "KillWait=5",
            "MinJobAge=60",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=60",
            "InactiveLimit=0",
            "PropagateResourceLimits=NONE",
        ]
        for node in c.node_names:
            lines.append(f"NodeName={node} NodeHostname={host} NodeAddr={c.ip} "
                         f"Port={free_port(c.ip)} CPUs={c.cpus_per_node} "
                         f"RealMemory={c.memory_per_node_mib} State=UNKNOWN")
        lines.append(f"PartitionName={c.partition} Nodes={','.join(c.node_names)} Default=YES "
                     f"MaxTime={c.max_time_min} State=UP OverSubscribe=NO")
        self.conf_path.write_text("\n".join(lines) + "\n")
        os.chmod(self.conf_path, 0o644)

    # ---- processes
    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.state_dir / "log" / f"{name}.out", "ab")  # noqa: SIM115 (closed in stop)
        self._logs.append(log)
        # own session: Ctrl-C in the lab's terminal reaches the lab, which stops us in order
        self._procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, env=self.client_env(),
                                             start_new_session=True, cwd=self.state_dir)

    def start(self, timeout_s: float = 120.0) -> None:
        """Write the configuration, start the daemons, wait until every node is idle."""
        if missing := missing_executables():
            raise DlclabError("Slurm is not installed (missing: " + ", ".join(missing)
                              + "): run `make slurm` (Debian: apt-get install slurm-wlm munge)")
        if os.geteuid() != 0:
            raise DlclabError("a local Slurm cluster runs its daemons as root (slurmd "
                              "starts each job as its owner)")
        self.write_config()
        s = self.state_dir
        try:
            self._spawn("munged", [
                DAEMONS["munged"], "--foreground", f"--socket={self.munge_socket}",
                f"--key-file={s / 'munge' / 'munge.key'}",
                f"--pid-file={s / 'munge' / 'munged.pid'}",
                f"--log-file={s / 'munge' / 'munged.log'}",
                f"--seed-file={s / 'munge' / 'munged.seed'}"])
            self._wait("munge's socket", lambda: self.munge_socket.exists(), timeout_s)
            self._spawn("slurmctld", [DAEMONS["slurmctld"], "-D", "-f", str(self.conf_path)])
            self._wait("slurmctld (scontrol ping)", self._ctld_up, timeout_s)
            for node in self.config.node_names:
                self._spawn(f"slurmd-{node}", [DAEMONS["slurmd"], "-D", "-N", node,
                                               "-f", str(self.conf_path)])
            self._wait("every node idle (sinfo)", self._nodes_idle, timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait(self, what: str, ready, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise DlclabError(f"local Slurm: {name} exited with code {proc.returncode} "
                                      f"while waiting for {what}; see {self.state_dir / 'log'}")
            if time.monotonic() > deadline:
                raise DlclabError(f"local Slurm: no {what} within {timeout_s:g} s; "
                                  f"see {self.state_dir / 'log'}")
            time.sleep(0.25)

    def run(self, argv: list[str], timeout_s: float = 60.0) -> subprocess.CompletedProcess:
        """Run a Slurm client command against this cluster (as root); text output."""
        return subprocess.run(argv, check=False, env=self.client_env(), capture_output=True, text=True,
                              timeout=timeout_s)

    def _ctld_up(self) -> bool:
        done = self.run(["scontrol", "ping"])
        return done.returncode == 0 and "is UP" in done.stdout

    def node_states(self) -> dict[str, str]:
        done = self.run(["sinfo", "-h", "-N", "-o", "%N %T"])
        if done.returncode != 0:
            return {}
        return dict(line.split() for line in done.stdout.splitlines() if line.strip())

    def _nodes_idle(self) -> bool:
        states = self.node_states()
        return sorted(states) == sorted(self.config.node_names) and all(
            state == "idle" for state in states.values())

    def job_ids(self) -> list[str]:
        done = self.run(["squeue", "-h", "-o", "%i"])
        return done.stdout.split() if done.returncode == 0 else []

    @property
    def running(self) -> bool:
        return any(proc.poll() is None for proc in self._procs.values())

    def stop(self, timeout_s: float = 60.0) -> None:
        """Cancel every job, stop slurmd(s), slurmctld and munged; leave nothing running."""
        if self._procs.get("slurmctld") is not None and self._procs["slurmctld"].poll() is None:
            jobs = self.job_ids()
            if jobs:
                self.run(["scancel", *jobs])
                deadline = time.monotonic() + timeout_s
                while self.job_ids() and time.monotonic() < deadline:
                    time.sleep(0.25)
        # slurmd first (no new steps), then the controller, munge last (both need it)
        order = [n for n in self._procs if n.startswith("slurmd-")] + ["slurmctld", "munged"]
        for name in order:
            proc = self._procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._kill_stray_steps()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def _kill_stray_steps(self) -> None:
        """A job's slurmstepd detaches from slurmd; one left (a job that did not stop when
        cancelled) holds a socket in this cluster's spool: kill it and its processes."""
        for proc in self.stray_processes():
            try:
                for child in proc.children(recursive=True):
                    child.kill()
                proc.kill()
            except psutil.NoSuchProcess:
                pass

    def stray_processes(self) -> list[psutil.Process]:
        """slurmstepd processes of this cluster still alive (after :meth:`stop`: none)."""
        spool = str(self.state_dir / "spool")
        found = []
        for proc in psutil.process_iter(["name"]):
            if not (proc.info["name"] or "").startswith("slurmstepd"):
                continue
            try:
                if any(f.path.startswith(spool) for f in proc.open_files()) or any(
                        c.laddr and str(c.laddr).startswith(spool)
                        for c in proc.net_connections("unix")):
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return found

    def __enter__(self) -> LocalSlurm:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
