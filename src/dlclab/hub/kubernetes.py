"""The lab's access model on Kubernetes, as the hub enforces it when it builds a user's pod.

Loaded by the hub snippets of ``helm/values/jupyterhub.yaml`` (the z2jh hub image carries
the ``dlclab`` package); nothing here runs on the single-machine lab. It needs only
JupyterHub, KubeSpawner and the standard library.

The model (docs/kubernetes.md, "Access model"):

* **Identity.** Every hub user runs as their own numeric uid and gid, :func:`user_uid`
  of the hub user name: stable across restarts, database loss and re-installs, never 0
  nor the image's 1000, and the same number the dask-gateway computes for the user's
  scheduler and worker pods (its snippet ``gateway.extraConfig.30-dlclab-options`` holds
  the same formula; a test checks they agree). Two hub users whose names collide on one
  uid are refused a server (:func:`check_unique_uid`) instead of sharing files.
* **Collaboration data by membership.** The internal releases and raw data of a
  collaboration are on their own claim, mounted read-only only into the pods of the hub
  group's members, with the collaboration's gid as supplemental group.
* **Network.** A user's dask pods carry ``dlclab.org/uid``; :func:`user_network_policy`
  is the NetworkPolicy (created by the hub before each spawn) that lets them talk only to
  dask pods of the same uid.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from traitlets import Dict, Integer, Unicode
from traitlets.config import LoggingConfigurable

#: First uid handed out; far above system accounts, the image's jovyan (1000) and the
#: usual LDAP ranges a site's NFS server might already map.
UID_BASE = 1_000_000
#: Number of uids, so that every uid stays below 2**31 (what every runtime accepts).
UID_SPAN = 2**30
#: Pod label carrying the owner's uid (users' servers and their dask pods).
UID_LABEL = "dlclab.org/uid"
DASK_COMPONENTS = ("dask-scheduler", "dask-worker")


class UidCollision(RuntimeError):
    """Two hub users would run as the same uid."""


def user_uid(name: str) -> int:
    """The uid (and primary gid) of hub user ``name``: ``UID_BASE`` plus the first 8 bytes
    of SHA-256 of the name, modulo ``UID_SPAN``. Deterministic, so the hub and the gateway
    agree without sharing state."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return UID_BASE + int.from_bytes(digest[:8], "big") % UID_SPAN


def check_unique_uid(name: str, other_names: Iterable[str]) -> int:
    """``user_uid(name)``, or :class:`UidCollision` naming both users if another hub user
    maps to the same uid (about 5 in 10,000 sites with 1,000 users; an admin renames one)."""
    uid = user_uid(name)
    for other in other_names:
        if other != name and user_uid(other) == uid:
            raise UidCollision(
                f"hub users {name!r} and {other!r} would both run as uid {uid}; "
                f"rename one of them (docs/kubernetes.md, 'Identity')")
    return uid


class LabKubernetes(LoggingConfigurable):
    """What the hub needs to build a user's pod (``hub.config.LabKubernetes`` in values)."""

    collaborations = Dict(
        value_trait=Integer(), default_value={"kascade": 3001, "taiga": 3002},
        help="Collaboration hub group -> gid of its internal data. Members get the claim "
             "`dlclab-internal-<group>` read-only at `<collaboration_root>/<group>` and the "
             "gid as supplemental group; the gateway snippet must list the same.",
    ).tag(config=True)
    collaboration_root = Unicode(
        "/srv/dlclab/collaborations",
        help="Where collaboration claims are mounted, one folder per collaboration.",
    ).tag(config=True)
    instructor_gid = Integer(
        2000, help="Supplemental gid of instructors; owns each course folder (mode 2770).",
    ).tag(config=True)
    course_mount = Unicode(
        "/home/jovyan/courses",
        help="Where an instructor's course folders (`nbgrader-course-<id>`) are mounted.",
    ).tag(config=True)


def _groups(spawner: Any) -> list[str]:
    return sorted(g.name for g in spawner.user.groups)


def _other_user_names(spawner: Any) -> list[str]:
    """Every hub user's name, from the hub's database."""
    from jupyterhub import orm

    return [name for (name,) in spawner.user.db.query(orm.User.name)]


def spawner_uid(spawner: Any) -> int:
    """``KubeSpawner.uid`` (also ``gid`` and ``fs_gid``): the user's own uid, refused when
    it collides with another hub user's."""
    return check_unique_uid(spawner.user.name, _other_user_names(spawner))


def spawner_supplemental_gids(spawner: Any, settings: LabKubernetes) -> list[int]:
    """The collaboration gids of the user's groups, and the instructors' gid for members
    of a ``formgrade-<course>`` group."""
    groups = _groups(spawner)
    gids = [settings.collaborations[g] for g in groups if g in settings.collaborations]
    if any(g.startswith("formgrade-") for g in groups):
        gids.append(settings.instructor_gid)
    return gids


def group_volumes(spawner: Any, settings: LabKubernetes) -> tuple[list[dict], list[dict]]:
    """(volumes, notebook mounts) that the user's hub groups add, in API names."""
    volumes: list[dict] = []
    mounts: list[dict] = []

    def add(claim: str, path: str, read_only: bool) -> None:
        name = claim[:63]
        volumes.append({"name": name, "persistentVolumeClaim": {"claimName": claim,
                                                                "readOnly": read_only}})
        mounts.append({"name": name, "mountPath": path, "readOnly": read_only})

    for group in _groups(spawner):
        if group in settings.collaborations:
            add(f"dlclab-internal-{group}", f"{settings.collaboration_root}/{group}", True)
        elif group.startswith("formgrade-"):
            course = group.removeprefix("formgrade-")
            add(f"nbgrader-course-{course}", f"{settings.course_mount}/{course}", False)
    return volumes, mounts


def taught_courses(spawner: Any) -> list[str]:
    """The courses of the user's ``formgrade-<course>`` groups."""
    return [g.removeprefix("formgrade-") for g in _groups(spawner) if g.startswith("formgrade-")]


def modify_pod(spawner: Any, pod: Any, settings: LabKubernetes) -> Any:
    """``KubeSpawner.modify_pod_hook``: group volumes, the owner label, instructors' env."""
    from kubernetes_asyncio.client import models as k8s

    notebook = next(ct for ct in pod.spec.containers if ct.name == "notebook")
    volumes, mounts = group_volumes(spawner, settings)
    pod.spec.volumes = list(pod.spec.volumes or []) + [
        k8s.V1Volume(name=v["name"], persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
            claim_name=v["persistentVolumeClaim"]["claimName"],
            read_only=v["persistentVolumeClaim"]["readOnly"])) for v in volumes]
    notebook.volume_mounts = list(notebook.volume_mounts or []) + [
        k8s.V1VolumeMount(name=m["name"], mount_path=m["mountPath"], read_only=m["readOnly"])
        for m in mounts]
    taught = taught_courses(spawner)
    if taught:
        notebook.env = list(notebook.env or []) + [
            k8s.V1EnvVar(name="DLCLAB_INSTRUCTOR_COURSES", value=",".join(taught))]
    labels = pod.metadata.labels = dict(pod.metadata.labels or {})
    labels[UID_LABEL] = str(user_uid(spawner.user.name))
    return pod


def user_network_policy(name: str, namespace: str) -> dict:
    """The NetworkPolicy of hub user ``name``'s dask pods: they accept connections from
    dask pods of the same owner, on any port (scheduler, workers, nanny, dashboards).
    Everything else that reaches a dask pod is allowed by the chart's static policy
    ``dlclab-dask-clusters`` (the gateway's proxy and API); nothing lets another user's
    pods in."""
    uid = str(user_uid(name))
    dask_of_owner = {
        "matchLabels": {UID_LABEL: uid, "app.kubernetes.io/name": "dask-gateway"},
        "matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "In",
                              "values": list(DASK_COMPONENTS)}],
    }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"dlclab-dask-uid-{uid}", "namespace": namespace,
                     "labels": {"app.kubernetes.io/name": "dlclab",
                                "app.kubernetes.io/component": "user-network-policy",
                                UID_LABEL: uid}},
        "spec": {"podSelector": dask_of_owner, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"podSelector": dask_of_owner}]}]},
    }


async def ensure_user_network_policy(spawner: Any) -> dict:
    """``KubeSpawner.pre_spawn_hook``: create or replace the user's dask NetworkPolicy
    before the server starts (so before the user can start a cluster). A failure stops
    the spawn: without the policy the user's own workers could not reach their scheduler,
    so failing here is the honest error. Needs the RBAC Role ``dlclab-hub-networkpolicies``
    of helm/dlclab."""
    from kubernetes_asyncio.client import NetworkingV1Api
    from kubernetes_asyncio.client.rest import ApiException
    from kubespawner.clients import shared_client

    policy = user_network_policy(spawner.user.name, spawner.namespace)
    api = shared_client(NetworkingV1Api)
    try:
        await api.create_namespaced_network_policy(spawner.namespace, policy)
    except ApiException as error:
        if error.status != 409:  # 409: it exists already; make it what we expect
            raise
        await api.replace_namespaced_network_policy(
            policy["metadata"]["name"], spawner.namespace, policy)
    return policy
