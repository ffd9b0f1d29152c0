"""Users' servers as Slurm jobs of their owners: :class:`LabSlurmSpawner`.

batchspawner's ``SlurmSpawner`` submits ``jupyterhub-singleuser`` (wrapped by
``batchspawner-singleuser``, which tells the hub the port it chose) with ``sbatch`` and
follows the job with ``squeue``. Here, as for the gateway
(:mod:`dlclab.hub.gateway_slurm`):

* **No sudo**: the hub runs as root on the login node and runs ``sbatch``, ``squeue``
  and ``scancel`` as the user with ``runuser`` (upstream's default is ``sudo -E -u``), so
  Slurm sees the user submit, query and cancel their own job;
* **an explicit** ``SLURM_CONF`` in the commands' and the job's environment;
* **the server listens on** :attr:`LabSlurmSpawner.bind_ip` (loopback on a one-machine
  test cluster; upstream binds every server to 0.0.0.0), and the hub reaches the node a
  job runs on through :attr:`LabSlurmSpawner.node_addresses`;
* the lab's own job script (cores, memory, time limit, partition, account, QOS from
  the lab's settings; the server is the job's main process, so ``scancel`` stops it).
"""
from __future__ import annotations

import shlex
from urllib.parse import urlsplit, urlunsplit

import batchspawner  # noqa: F401 - registers the hub's /api/batchspawner handler
from batchspawner import SlurmSpawner
from traitlets import Dict, Unicode, default

from dlclab.hub.settings import LabSettings

#: sbatch directives of a user's server job (Jinja, filled by batchspawner)
JOB_SCRIPT = """#!/bin/bash
#SBATCH --job-name=jupyterhub-server
#SBATCH --output={{homedir}}/.jupyterhub-slurm-%j.log
#SBATCH --chdir={{homedir}}
#SBATCH --export={{keepvars}}
#SBATCH --cpus-per-task={{nprocs}}
#SBATCH --mem={{memory}}
#SBATCH --time={{runtime}}
{% if partition %}#SBATCH --partition={{partition}}
{% endif %}{% if account %}#SBATCH --account={{account}}
{% endif %}{% if qos %}#SBATCH --qos={{qos}}
{% endif %}
{{prologue}}
exec {{cmd}}
"""


class LabSlurmSpawner(SlurmSpawner):
    """``SlurmSpawner`` for a hub running as root (see the module docstring)."""

    slurm_conf = Unicode("", config=True, help=(
        "The slurm.conf the user's sbatch/squeue/scancel and the job use (SLURM_CONF). "
        "Empty: Slurm's default."))
    bind_ip = Unicode("127.0.0.1", config=True, help=(
        "The address the user's server listens on inside its job: 127.0.0.1 on a "
        "one-machine test cluster, 0.0.0.0 (or the node's internal address) on a site."))
    node_addresses = Dict(config=True, help=(
        "Compute node host name (squeue's %B) -> the address the hub reaches it at. "
        "Hosts not listed are used as squeue reports them."))

    @default("exec_prefix")
    def _exec_prefix_default(self) -> str:
        # The hub is root: Slurm's commands run as the user. runuser keeps the environment
        # batchspawner passes to sbatch (the server's variables for --export); squeue and
        # scancel get none from batchspawner, so SLURM_CONF is set here for all three.
        conf = f" env SLURM_CONF={shlex.quote(self.slurm_conf)}" if self.slurm_conf else ""
        return "runuser -u {username} --" + conf

    @default("batch_script")
    def _batch_script_default(self) -> str:
        return JOB_SCRIPT

    @default("req_srun")
    def _req_srun_default(self) -> str:
        return ""  # the server is the batch step itself (JOB_SCRIPT's exec)

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        if self.slurm_conf:
            env["SLURM_CONF"] = self.slurm_conf
        # batchspawner resets the spawner's ip to 0.0.0.0 before every start; the server
        # binds to the host of JUPYTERHUB_SERVICE_URL (its port is chosen in the job)
        if env.get("JUPYTERHUB_SERVICE_URL"):
            url = urlsplit(env["JUPYTERHUB_SERVICE_URL"])
            port = f":{url.port}" if url.port else ""
            env["JUPYTERHUB_SERVICE_URL"] = urlunsplit(url._replace(netloc=f"{self.bind_ip}{port}"))
        return env

    def state_gethost(self) -> str:
        host = super().state_gethost()
        return self.node_addresses.get(host, host)


def configure_batch_spawner(c, settings: LabSettings) -> None:  # c: a traitlets Config
    """Select and configure :class:`LabSlurmSpawner` from the lab's settings."""
    c.JupyterHub.spawner_class = LabSlurmSpawner
    s = c.LabSlurmSpawner
    s.slurm_conf = str(settings.slurm_conf or "")
    s.bind_ip = settings.slurm_job_host
    s.node_addresses = dict(settings.slurm_node_addresses)
    s.batchspawner_singleuser_cmd = str(settings.bin / "batchspawner-singleuser")
    s.req_partition = settings.slurm_partition
    s.req_account = settings.slurm_account
    s.req_qos = settings.slurm_qos
    s.req_nprocs = str(settings.slurm_server_cores)
    s.req_memory = f"{int(settings.slurm_server_memory_gib * 1024)}M"
    s.req_runtime = str(settings.slurm_server_time_min)
    # queue waiting counts against the start (more specific than Spawner.start_timeout)
    s.start_timeout = settings.slurm_server_start_timeout_s
    # a server the batch system ended (scancel, time limit) is noticed this often
    s.poll_interval = settings.slurm_poll_interval_s
