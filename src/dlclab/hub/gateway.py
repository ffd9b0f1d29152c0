"""dask-gateway-server configuration for the lab (``hub/dask_gateway_config.py`` calls
:func:`configure_gateway`).

* authentication by JupyterHub tokens, with the ``access:services!service=dask-gateway``
  scope required (``jupyterhub_service_name`` set);
* as root, :class:`dlclab.hub.gateway_backend.LabLocalBackend`: each cluster runs as its
  owner's system user with its Unix groups (the data policy applies to workers too),
  root never acts on a path the owner can change, and a cluster's dashboard is its
  owner's only (reached through the owner's server, not the gateway's proxy, and
  served to the owner's connections only: :mod:`dlclab.hub.dashboard_guard`); otherwise
  :class:`~dlclab.hub.gateway_backend.LabUnsafeLocalBackend` (every cluster runs as the
  gateway's user, dashboards as with root) with a warning;
* with ``batch = "slurm"``, :class:`dlclab.hub.gateway_slurm.LabSlurmBackend`: schedulers
  and workers are Slurm jobs of the cluster's owner (docs/batch.md);
* ``dask scheduler`` / ``dask worker`` from the lab's venv (distributed 2026 ships no
  ``dask-scheduler`` executable);
* per-worker cores and memory chosen by the user within caps, a cap on workers per
  cluster, idle clusters stopped.
"""
from __future__ import annotations

import logging

from dlclab.hub.settings import LabSettings

log = logging.getLogger(__name__)

SERVICE_NAME = "dask-gateway"
PREFIX = f"/services/{SERVICE_NAME}"


def worker_options(settings: LabSettings):
    """The options users may choose per cluster (``Gateway().cluster_options()``)."""
    from dask_gateway_server.options import Float, Integer, Options

    def to_config(options):
        return {
            "worker_cores": options.worker_cores,
            "worker_memory": f"{options.worker_memory_gib:g}G",
        }

    return Options(
        Integer("worker_cores", default=1, min=1, max=settings.worker_cores_max,
                label="Cores per worker"),
        Float("worker_memory_gib", default=1.0, min=0.25, max=settings.worker_memory_max_gib,
              label="Memory per worker (GiB)"),
        handler=to_config,
    )


def configure_gateway(c, settings: LabSettings) -> None:
    """Fill the dask-gateway-server config object ``c``."""
    c.DaskGateway.log_level = settings.log_level
    # The private API listens on a free port; users reach the gateway through its
    # proxy (HTTP under the hub's /services/dask-gateway/, schedulers over TCP/TLS).
    c.DaskGateway.address = f"{settings.ip}:0"
    c.Proxy.address = f"{settings.ip}:{settings.gateway_port}"
    c.Proxy.tcp_address = f"{settings.ip}:{settings.gateway_scheduler_port}"
    c.Proxy.prefix = PREFIX

    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
    c.JupyterHubAuthenticator.jupyterhub_service_name = SERVICE_NAME

    if settings.batch == "slurm":
        # each cluster's scheduler and workers are Slurm jobs of its owner
        from dlclab.hub.gateway_slurm import configure_slurm_backend

        configure_slurm_backend(c, settings)
    elif settings.isolated:
        from dlclab.hub.gateway_backend import LabLocalBackend

        c.DaskGateway.backend_class = LabLocalBackend
        if settings.gateway_handover_hook:
            c.LabLocalBackend.handover_hook = list(settings.gateway_handover_hook)
    else:
        log.warning("dlclab: dask-gateway runs every cluster as the hub's OS user "
                    "(UnsafeLocalBackend): users are NOT isolated. Run the lab as root.")
        c.DaskGateway.backend_class = "dlclab.hub.gateway_backend.LabUnsafeLocalBackend"
    c.LocalBackend.inherited_environment = ["PATH", "LANG", "LC_ALL", "DLCLAB_DATA_ROOT",
                                            "DLCLAB_CATALOG"]

    dask = str(settings.bin / "dask")
    # Schedulers' and workers' dashboards answer their owner's connections only; the
    # guard knows local peers only, and on a batch cluster the owner's server connects
    # from another node (docs/batch.md says what holds there instead)
    guard = [] if settings.batch == "slurm" else ["--preload", "dlclab.hub.dashboard_guard"]
    c.ClusterConfig.scheduler_cmd = [dask, "scheduler", *guard]
    c.ClusterConfig.worker_cmd = [dask, "worker", *guard]
    c.ClusterConfig.environment = {
        "DLCLAB_DATA_ROOT": str(settings.data_root),
        "DLCLAB_CATALOG": str(settings.catalog_path),
    }
    c.ClusterConfig.idle_timeout = float(settings.cluster_idle_timeout_s)
    c.ClusterConfig.cluster_max_workers = settings.cluster_max_workers
    c.ClusterConfig.cluster_max_cores = settings.cluster_max_workers * settings.worker_cores_max
    c.ClusterConfig.cluster_max_memory = (
        f"{settings.cluster_max_workers * settings.worker_memory_max_gib:g}G")
    c.Backend.cluster_options = worker_options(settings)
