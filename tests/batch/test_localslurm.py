"""The local test Slurm cluster: jobs run as their submitter, users cannot cancel each
other's jobs, and a stopped cluster leaves nothing running."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psutil

from dlclab.batch.localslurm import LocalSlurm, LocalSlurmConfig
from tests.batch.helpers import run_as, wait_for


def test_nodes_idle_and_partition(local_slurm: LocalSlurm):
    states = local_slurm.node_states()
    assert sorted(states) == local_slurm.config.node_names
    assert local_slurm.run(["sinfo", "-h", "-o", "%P"]).stdout.split() == ["lab*"]


def test_job_runs_as_its_submitter(local_slurm: LocalSlurm, two_users):
    ann = two_users[0]
    done = run_as(ann, ["srun", "-N1", "id", "-un"], local_slurm.env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ann


def test_user_cannot_cancel_anothers_job(local_slurm: LocalSlurm, two_users):
    ann, ben = two_users
    submitted = run_as(ann, ["sbatch", "--parsable", "--chdir=/tmp", "--output=/dev/null",
                             "--wrap", "sleep 600"], local_slurm.env)
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip()
    try:
        refused = run_as(ben, ["scancel", job], local_slurm.env)
        assert refused.returncode != 0
        assert "denied" in refused.stderr.lower() or "not authorized" in refused.stderr.lower()
        owners = local_slurm.run(["squeue", "-h", "-j", job, "-o", "%u"]).stdout.split()
        assert owners == [ann]
        # and the job's processes are ann's (slurmstepd starts them as the owner)
        sleeper = wait_for("ann's sleep process", lambda: [
            p for p in psutil.process_iter(["username", "cmdline"])
            if p.info["cmdline"] == ["sleep", "600"] and p.info["username"] == ann])
        assert sleeper
    finally:
        assert run_as(ann, ["scancel", job], local_slurm.env).returncode == 0
    wait_for("the cancelled job gone from squeue", lambda: job not in local_slurm.job_ids())


def test_stop_leaves_nothing_running(two_users):
    """A second cluster, stopped with a job still running: nothing of it stays."""
    state = Path(tempfile.mkdtemp(prefix="dlclab-slurm-stop-"))
    cluster = LocalSlurm(LocalSlurmConfig(state_dir=state, nodes=1))
    try:
        with cluster:
            pids = {p.pid for p in cluster._procs.values()}
            job = run_as(two_users[1], ["sbatch", "--parsable", "--chdir=/tmp",
                                        "--output=/dev/null", "--wrap", "sleep 600"],
                         cluster.env).stdout.strip()
            wait_for("the job running", lambda: cluster.run(
                ["squeue", "-h", "-j", job, "-o", "%t"]).stdout.strip() == "R")
        assert not cluster.running
        assert not [pid for pid in pids if psutil.pid_exists(pid)
                    and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
        assert not cluster.stray_processes()
        assert not [p for p in psutil.process_iter(["username", "status"])
                    if p.info["username"] == two_users[1]
                    and p.info["status"] != psutil.STATUS_ZOMBIE]  # a zombie runs nothing
    finally:
        shutil.rmtree(state, ignore_errors=True)
