"""The gateway side: our dask-gateway values as the gateway would load them.

The chart turns ``gateway.backend.*`` values into ``KubeClusterConfig`` traits and then
appends ``gateway.extraConfig``; :func:`gateway_config` does the same mapping (the keys
our values use), executes our snippets verbatim, and the real ``KubeBackend`` and
``KubeController`` of dask-gateway-server turn a user's request into scheduler and
worker pods, which validate strictly against the Kubernetes API.
"""
from __future__ import annotations

import asyncio
import copy

import kubernetes_validate
import pytest
from dask_gateway_server.backends.kubernetes import KubeBackend
from dask_gateway_server.backends.kubernetes.controller import KubeController
from dask_gateway_server.models import User
from traitlets.config import Config

from dlclab.hub.kubernetes import user_uid
from tests.deploy.conftest import KUBERNETES_VERSION, UPSTREAM, VALUES_DIR, load_yaml, schemas_dir
from tests.deploy.values_merge import merge_values

#: chart value (under gateway.backend) -> KubeClusterConfig trait, as the chart forwards them
FORWARDED = {
    "scheduler.cores.request": "scheduler_cores", "scheduler.cores.limit": "scheduler_cores_limit",
    "scheduler.memory.request": "scheduler_memory", "scheduler.memory.limit": "scheduler_memory_limit",
    "scheduler.extraPodConfig": "scheduler_extra_pod_config",
    "scheduler.extraContainerConfig": "scheduler_extra_container_config",
    "worker.cores.request": "worker_cores", "worker.cores.limit": "worker_cores_limit",
    "worker.memory.request": "worker_memory", "worker.memory.limit": "worker_memory_limit",
    "worker.extraPodConfig": "worker_extra_pod_config",
    "worker.extraContainerConfig": "worker_extra_container_config",
    "worker.threads": "worker_threads",
    "environment": "environment",
}


def lookup(values: dict, dotted: str):
    for key in dotted.split("."):
        if not isinstance(values, dict) or key not in values:
            return None
        values = values[key]
    return values


def gateway_config(values: dict) -> Config:
    c = Config()
    gateway = values["gateway"]
    backend = gateway["backend"]
    c.DaskGateway.backend_class = "dask_gateway_server.backends.kubernetes.KubeBackend"
    c.KubeClusterConfig.image = f"{backend['image']['name']}:{backend['image']['tag']}"
    for dotted, trait in FORWARDED.items():
        value = lookup(backend, dotted)
        if value is not None:
            setattr(c.KubeClusterConfig, trait, copy.deepcopy(value))
    auth = gateway["auth"]["jupyterhub"]
    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
    c.JupyterHubAuthenticator.jupyterhub_api_url = auth["apiUrl"]
    c.JupyterHubAuthenticator.jupyterhub_service_name = auth["jupyterhubServiceName"]
    for key in sorted(gateway["extraConfig"]):
        exec(compile(gateway["extraConfig"][key], f"gateway.extraConfig.{key}", "exec"), {"c": c})
    return c


@pytest.fixture(scope="module")
def gateway_values() -> dict:
    defaults = load_yaml(schemas_dir() / f"{UPSTREAM['dask-gateway']}.default-values.yaml")
    return merge_values(defaults, load_yaml(VALUES_DIR / "dask-gateway.yaml"))


@pytest.fixture(scope="module")
def config(gateway_values) -> Config:
    return gateway_config(gateway_values)


def cluster_pods(config: Config, user: User, request: dict) -> tuple[dict, dict, object]:
    """(scheduler pod, worker pod, cluster config) for ``user`` asking for ``request``."""
    async def build():
        backend = KubeBackend(config=config)
        _, cluster_config = await backend.process_cluster_options(user, request)
        return cluster_config

    cluster_config = asyncio.run(build())
    controller = KubeController(config=config)
    controller.api_url = "http://api-dask-gateway.dlclab:8000/api"
    controller.gateway_instance = "dask-gateway"
    pods = []
    for is_worker in (False, True):
        pod = controller.make_pod("dlclab", "abc123", cluster_config, is_worker=is_worker)
        pod["metadata"].setdefault("name", "dask-worker-abc123-x")  # the API fills generateName
        kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
        pods.append(pod)
    return pods[0], pods[1], cluster_config


def volumes_of(pod: dict) -> dict[str, dict]:
    return {v["name"]: v for v in pod["spec"].get("volumes", [])}


def test_gateway_requires_the_hub_service_scope(config):
    assert config.JupyterHubAuthenticator.jupyterhub_service_name == "dask-gateway"


def test_scheduler_and_workers_run_dask_from_the_user_image(config, gateway_values):
    scheduler, worker, _ = cluster_pods(config, User("ann", ["students"]), {})
    image = "ghcr.io/dlclab/lab:0.1.0"
    assert scheduler["spec"]["containers"][0]["image"] == image
    assert worker["spec"]["containers"][0]["image"] == image
    assert scheduler["spec"]["containers"][0]["args"][:2] == ["dask", "scheduler"]
    assert worker["spec"]["containers"][0]["args"][:2] == ["dask", "worker"]


def test_worker_options_and_caps(config):
    _, worker, cluster = cluster_pods(config, User("ann", ["students"]),
                                      {"worker_cores": 2, "worker_memory_gib": 4})
    resources = worker["spec"]["containers"][0]["resources"]
    assert resources["limits"]["cpu"] == "2.000" and resources["requests"]["cpu"] == "2.000"
    assert cluster.worker_memory_limit == 4 * 2**30  # dask-gateway reads "G" as GiB
    assert cluster.cluster_max_workers == 8 and cluster.idle_timeout == 1800
    with pytest.raises(Exception, match="worker_cores"):
        cluster_pods(config, User("ann", ["students"]), {"worker_cores": 64})


def test_workers_mount_data_read_only_and_raw_data_only_for_members(config):
    _, member, _ = cluster_pods(config, User("tunka", ["taiga"]), {})
    _, outsider, _ = cluster_pods(config, User("ann", ["students"]), {})
    assert volumes_of(member)["dlclab-data"]["persistentVolumeClaim"]["readOnly"] is True
    assert volumes_of(member)["dlclab-internal-taiga"]["persistentVolumeClaim"]["readOnly"] is True
    assert "dlclab-internal-kascade" not in volumes_of(member)
    assert "dlclab-data" in volumes_of(outsider)
    assert not any(name.startswith("dlclab-internal-") for name in volumes_of(outsider))
    mounts = {m["mountPath"]: m for m in member["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["/srv/dlclab/collaborations/taiga"]["readOnly"] is True


def test_worker_pods_prefer_their_own_node_pool(config):
    _, worker, _ = cluster_pods(config, User("ann", ["students"]), {})
    spec = worker["spec"]
    assert spec["tolerations"][0]["value"] == "dask-workers"
    terms = spec["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert terms[0]["preference"]["matchExpressions"][0]["values"] == ["dask-workers"]
    assert spec["securityContext"]["runAsUser"] == user_uid("ann")
    assert spec["automountServiceAccountToken"] is False
