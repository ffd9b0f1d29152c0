"""The lab's dask-gateway backend on a Slurm cluster: :class:`LabSlurmBackend`.

dask-gateway-server's ``SlurmBackend`` submits each cluster's scheduler and each worker
as a Slurm job of the cluster's owner, through ``dask-gateway-jobqueue-launcher`` run as
that owner. Here:

* **No sudo.** Upstream runs the launcher with ``sudo -nHu <owner>`` (a sudoers rule
  per site). The lab's gateway runs as root on the login node (as the one-machine lab
  does), so it starts the launcher directly as the owner, with the owner's Unix groups
  (the collaboration groups guard data on shared storage), from the owner's home.
* **The cluster's configuration is explicit.** ``SLURM_CONF`` (the lab's
  ``slurm_conf`` setting) is given to every ``sbatch``, ``squeue`` and ``scancel`` and
  exported into the jobs, so the lab can submit to a test cluster or a site's cluster
  without touching ``/etc/slurm``.
* **Jobs listen where the site says** (:attr:`LabSlurmBackend.job_host`): on the local
  test cluster on loopback only, like the one-machine lab; on a site's compute nodes
  on all interfaces (the gateway's proxy on the login node must reach them).
* **Dashboards only for the owner**, as with :class:`dlclab.hub.gateway_backend.
  LabLocalBackend` (the gateway's proxy gets no dashboard route).
"""
from __future__ import annotations

import asyncio
import json
import os
import pwd

from dask_gateway_server.backends.jobqueue.slurm import SlurmBackend, SlurmClusterConfig
from traitlets import Unicode

from dlclab.hub.gateway_backend import OwnerDashboards
from dlclab.hub.settings import LabSettings


class LabSlurmClusterConfig(SlurmClusterConfig):
    """Slurm cluster options; only the lab's defaults differ from upstream's."""


class LabSlurmBackend(OwnerDashboards, SlurmBackend):
    """``SlurmBackend`` without sudo, with an explicit ``SLURM_CONF`` (module docstring)."""

    slurm_conf = Unicode("", config=True, help=(
        "The slurm.conf of the cluster the gateway submits to (SLURM_CONF of every Slurm "
        "command and job). Empty: Slurm's own default (/etc/slurm/slurm.conf)."))

    job_host = Unicode("0.0.0.0", config=True, help=(
        "The address schedulers and workers listen on inside their jobs: 127.0.0.1 on a "
        "one-machine test cluster, 0.0.0.0 where jobs run on other hosts."))

    @property
    def default_host(self) -> str:  # read by upstream's scheduler and worker commands
        return self.job_host

    def slurm_env(self) -> dict[str, str]:
        return {"SLURM_CONF": self.slurm_conf} if self.slurm_conf else {}

    def get_submit_cmd_env_stdin(self, cluster, worker=None):
        cmd, env, script = super().get_submit_cmd_env_stdin(cluster, worker)
        extra = self.slurm_env()
        if extra:
            env = {**env, **extra}
            # sbatch --export=<names>: the job's environment is exactly these names
            cmd = [f"--export={','.join(sorted(env))}" if part.startswith("--export=") else part
                   for part in cmd]
        return cmd, env, script

    def get_stop_cmd_env(self, job_id):
        cmd, env = super().get_stop_cmd_env(job_id)
        return cmd, {**env, **self.slurm_env()}

    def get_status_cmd_env(self, job_ids):
        cmd, env = super().get_status_cmd_env(job_ids)
        return cmd, {**env, **self.slurm_env()}

    async def do_as_user(self, user, action, **kwargs):
        """Run the launcher as ``user`` (with the user's groups), without sudo."""
        pw = pwd.getpwnam(user)
        groups = os.getgrouplist(pw.pw_name, pw.pw_gid)
        env = {"HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name,
               "PATH": os.environ.get("PATH", "/usr/bin:/bin"), **self.slurm_env()}
        proc = await asyncio.create_subprocess_exec(
            self.dask_gateway_jobqueue_launcher, env=env, cwd=pw.pw_dir,
            user=pw.pw_uid, group=pw.pw_gid, extra_groups=groups,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await proc.communicate(json.dumps({**kwargs, "action": action}).encode())
        if proc.returncode != 0:
            raise RuntimeError(f"dask-gateway-jobqueue-launcher as {user} exited with "
                               f"{proc.returncode}: {stderr.decode(errors='replace')}")
        result = json.loads(stdout.decode(errors="replace"))
        if not result["ok"]:
            raise RuntimeError(result["error"])
        return result["returncode"], result["stdout"], result["stderr"]


def configure_slurm_backend(c, settings: LabSettings) -> None:  # c: a traitlets Config
    """Select and configure :class:`LabSlurmBackend` from the lab's settings."""
    c.DaskGateway.backend_class = LabSlurmBackend
    c.LabSlurmBackend.slurm_conf = str(settings.slurm_conf or "")
    c.LabSlurmBackend.job_host = settings.slurm_job_host
    c.LabSlurmBackend.dask_gateway_jobqueue_launcher = str(
        settings.bin / "dask-gateway-jobqueue-launcher")
    c.LabSlurmBackend.cluster_config_class = LabSlurmClusterConfig
    c.LabSlurmClusterConfig.partition = settings.slurm_partition
    c.LabSlurmClusterConfig.account = settings.slurm_account
    c.LabSlurmClusterConfig.qos = settings.slurm_qos
    c.LabSlurmClusterConfig.scheduler_cores = 1
    c.LabSlurmClusterConfig.scheduler_memory = f"{settings.slurm_scheduler_memory_gib:g}G"
    # the launcher writes each cluster's TLS files and logs here (the owner's, 0700)
    c.LabSlurmClusterConfig.staging_directory = "{home}/.dask-gateway/"
