"""dask-gateway on Slurm: a user's cluster is Slurm jobs of that user, its processes run
as that user, another user cannot cancel them, and they stop with the owner's server."""
from __future__ import annotations

import psutil
import pytest

from tests.batch.helpers import run_as, wait_for
from tests.hub_harness import LabHub

pytestmark = pytest.mark.hub


def cluster_processes(name: str) -> list[psutil.Process]:
    """The processes of dask cluster ``name`` (its scheduler and workers)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("DASK_GATEWAY_CLUSTER_NAME") == name:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def user_jobs(lab: LabHub, cluster, short: str) -> list[list[str]]:
    """The user's dask-gateway jobs (their server is a job too: jupyterhub-server)."""
    out = cluster.run(["squeue", "-h", "-u", lab.user(short).name, "-n", "dask-gateway",
                       "-o", "%i %j %u %T"])
    assert out.returncode == 0, out.stderr
    return [line.split() for line in out.stdout.splitlines()]


def test_cluster_of_two_workers_is_slurm_jobs_of_its_owner(slurm_lab: LabHub, local_slurm):
    alice, bob = slurm_lab.user("alice").name, slurm_lab.user("bob").name
    slurm_lab.start_server("alice")
    kernel = slurm_lab.kernel("alice")
    out = kernel.execute(
        "import os\n"
        "from dask_gateway import Gateway\n"
        "cluster = Gateway().new_cluster(shutdown_on_close=False)\n"
        "cluster.scale(2)\n"
        "client = cluster.get_client()\n"
        "client.wait_for_workers(2, timeout=240)\n"
        "print(cluster.name)\n"
        "print(client.submit(sum, range(10)).result())\n"
        "print(sorted(set(client.run(os.getuid).values())), os.getuid())\n")
    name, total, uids = out.splitlines()
    assert total == "45"
    worker_uids, own = uids.rsplit(" ", 1)
    assert worker_uids == f"[{own}]"

    # Slurm: a scheduler and two workers, all alice's, all running
    jobs = user_jobs(slurm_lab, local_slurm, "alice")
    assert [(j[1], j[2], j[3]) for j in jobs] == [("dask-gateway", alice, "RUNNING")] * 3
    # the processes: scheduler and workers, all alice's
    procs = cluster_processes(name)
    assert len([p for p in procs if "scheduler" in p.cmdline()]) == 1
    assert len([p for p in procs if "worker" in p.cmdline()]) == 2
    assert {p.username() for p in procs} == {alice}

    # bob can neither cancel alice's jobs nor see them stop
    for job_id, *_ in jobs:
        refused = run_as(bob, ["scancel", job_id], local_slurm.env)
        assert refused.returncode != 0
        assert "denied" in refused.stderr.lower() or "not authorized" in refused.stderr.lower()
    assert len(user_jobs(slurm_lab, local_slurm, "alice")) == 3

    # a worker's job ended by Slurm (the site's admin, a node failure): the gateway
    # notices, starts a replacement job, and the cluster works on with 2 workers
    workers = [p for p in procs if "worker" in p.cmdline()]
    victim = workers[0].environ()["SLURM_JOB_ID"]
    assert local_slurm.run(["scancel", victim]).returncode == 0
    wait_for("a replacement worker job", lambda: (
        ids := [j[0] for j in user_jobs(slurm_lab, local_slurm, "alice")
                if j[3] == "RUNNING"]) and victim not in ids and len(ids) == 3, timeout_s=240)
    out = kernel.execute("client.wait_for_workers(2, timeout=240)\n"
                         "print(client.submit(sum, range(5)).result(),"
                         " len(client.scheduler_info()['workers']))")
    assert out.split() == ["10", "2"]

    # the cluster stops with its owner's server (post-stop hook): its jobs leave the queue
    slurm_lab.stop_server("alice")
    wait_for("alice's jobs gone", lambda: not user_jobs(slurm_lab, local_slurm, "alice"),
             timeout_s=180)
    wait_for("alice's cluster processes gone", lambda: not [
        p for p in cluster_processes(name) if p.status() != psutil.STATUS_ZOMBIE], timeout_s=120)
