"""Users' servers as Slurm jobs (batchspawner): a server is a job of its owner, reached
through the hub; a job Slurm ends is reported as a stopped server; users cannot cancel
or reach each other's servers."""
from __future__ import annotations

import httpx
import psutil
import pytest

from tests.batch.helpers import run_as, wait_for
from tests.hub_harness import LabHub

pytestmark = pytest.mark.hub

def server_jobs(cluster, user: str) -> list[tuple[str, str]]:
    out = cluster.run(["squeue", "-h", "-u", user, "-n", "jupyterhub-server", "-o", "%i %T"])
    assert out.returncode == 0, out.stderr
    return [tuple(line.split()) for line in out.stdout.splitlines()]


def test_server_is_a_slurm_job_of_its_owner_reached_through_the_hub(slurm_lab: LabHub,
                                                                    local_slurm):
    bob = slurm_lab.user("bob").name
    slurm_lab.start_server("bob", timeout_s=240)
    jobs = server_jobs(local_slurm, bob)
    assert len(jobs) == 1 and jobs[0][1] == "RUNNING", jobs
    # the kernel runs inside that job, as bob
    with slurm_lab.kernel("bob") as kernel:
        out = kernel.execute("import os, pwd\n"
                             "print(os.environ['SLURM_JOB_ID'], pwd.getpwuid(os.getuid()).pw_name)")
    assert out.split() == [jobs[0][0], bob]
    servers = [p for p in psutil.process_iter(["username", "cmdline"])
               if any("jupyterhub-singleuser" in part for part in p.info["cmdline"] or [])
               and p.info["username"] == bob]
    assert servers, "bob's server process is not bob's"
    # through the hub's proxy, with bob's token
    status = httpx.get(f"{slurm_lab.server_url('bob')}/api/status",
                       headers={"Authorization": f"token {slurm_lab.token('bob')}"}, timeout=60)
    assert status.status_code == 200


def test_another_user_cannot_cancel_or_reach_a_server(slurm_lab: LabHub, local_slurm):
    alice, bob = slurm_lab.user("alice").name, slurm_lab.user("bob").name
    slurm_lab.start_server("bob", timeout_s=240)
    (job, _), = server_jobs(local_slurm, bob)
    refused = run_as(alice, ["scancel", job], local_slurm.env)
    assert refused.returncode != 0
    assert "denied" in refused.stderr.lower() or "not authorized" in refused.stderr.lower()
    assert server_jobs(local_slurm, bob) == [(job, "RUNNING")]
    # alice's token does not open bob's server through the hub
    resp = httpx.get(f"{slurm_lab.server_url('bob')}/api/status", timeout=60,
                     headers={"Authorization": f"token {slurm_lab.token('alice')}"})
    assert resp.status_code in (401, 403, 404)


def test_server_ended_by_slurm_is_reported_stopped(slurm_lab: LabHub, local_slurm):
    bob = slurm_lab.user("bob").name
    slurm_lab.start_server("bob", timeout_s=240)
    (job, _), = server_jobs(local_slurm, bob)
    assert local_slurm.run(["scancel", job]).returncode == 0  # as the site's admin would
    # the hub notices (poll) and reports the server stopped; a new start works
    slurm_lab.admin.wait(lambda: slurm_lab.admin.server_stopped(bob), "bob's server reported "
                         "stopped", timeout_s=180)
    wait_for("bob's job gone", lambda: not server_jobs(local_slurm, bob), timeout_s=120)
    slurm_lab.start_server("bob", timeout_s=240)
    assert [state for _, state in server_jobs(local_slurm, bob)] == ["RUNNING"]
    slurm_lab.stop_server("bob", timeout_s=120)
    wait_for("bob's job gone", lambda: not server_jobs(local_slurm, bob), timeout_s=120)
