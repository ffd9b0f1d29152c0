"""The access model on Kubernetes, shown on the pods the lab would create for each kind of
user: a student, a KASCADE member, a TAIGA member and an instructor.

For each, in every profile the user may choose: the user's server (KubeSpawner's pod,
from the chart's values loaded into a real JupyterHub, after the hub's
``modify_pod_hook``) and the scheduler and worker of a dask cluster (dask-gateway's
KubeBackend and KubeController, from the gateway chart's values). The attacks these rule
out: reading another collaboration's internal releases or raw data from a mounted volume,
acting as another user (or as the image's shared uid 1000) on a shared file system, and
rewriting nbgrader releases or submissions in a shared exchange folder.
"""
from __future__ import annotations

import pytest
from dask_gateway_server.models import User as GatewayUser

from dlclab.hub import kubernetes as k8s_model
from dlclab.hub.kubernetes import UID_LABEL, user_uid
from tests.deploy.test_gateway_config import cluster_pods, config, gateway_values  # noqa: F401
from tests.deploy.test_hub_config import (  # noqa: F401  (fixtures)
    Group, LabUser, claims, hub_app, hub_values, in_loop, pod_manifest, spawner_for,
    visible_profiles)

COURSE = "astroparticle-online"
#: persona -> (hub groups, the collaboration claims the persona's pods may mount)
PERSONAS = {
    "student": (["students", f"nbgrader-{COURSE}"], set()),
    "kascade-member": (["kascade"], {"dlclab-internal-kascade"}),
    "taiga-member": (["taiga"], {"dlclab-internal-taiga"}),
    "instructor": (["instructors", f"formgrade-{COURSE}"], set()),
}


def _internal(claim_names) -> set[str]:
    return {c for c in claim_names if c.startswith("dlclab-internal-")}


def _pvc_claims(pod: dict) -> dict[str, bool]:
    return {v["persistentVolumeClaim"]["claimName"]: bool(v["persistentVolumeClaim"].get("readOnly"))
            for v in pod["spec"].get("volumes", []) if "persistentVolumeClaim" in v}


def _run_as(pod: dict) -> set[int]:
    """Every uid the pod's containers run as (pod-level default included)."""
    pod_uid = (pod["spec"].get("securityContext") or {}).get("runAsUser")
    uids = {(c.get("securityContext") or {}).get("runAsUser", pod_uid)
            for c in pod["spec"]["containers"] + pod["spec"].get("initContainers", [])}
    return uids


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_servers_mount_only_their_own_collaborations_data_and_run_as_their_own_uid(
        hub_app, persona):  # noqa: F811
    groups, allowed = PERSONAS[persona]
    user = LabUser(persona, [Group(g) for g in groups], others=tuple(p for p in PERSONAS if p != persona))
    for profile in visible_profiles(hub_app, user):
        pod = pod_manifest(hub_app, user, profile)
        assert _internal(claims(pod)) == allowed, (persona, profile)
        assert _run_as(pod) == {user_uid(persona)}, (persona, profile)
        assert pod["metadata"]["labels"][UID_LABEL] == str(user_uid(persona))
        shared = {name for name, read_only in claims(pod).items()
                  if not read_only and name != f"claim-{persona}"}
        if persona == "instructor":  # the course folder of the course they teach, nothing else
            assert shared == {f"nbgrader-course-{COURSE}"}, profile
        else:
            assert shared == set(), (persona, profile)
        assert not any("exchange" in name for name in claims(pod)), (persona, profile)


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_dask_schedulers_and_workers_follow_their_owner(config, persona):  # noqa: F811
    groups, allowed = PERSONAS[persona]
    scheduler, worker, _ = cluster_pods(config, GatewayUser(persona, groups), {})
    for pod in (scheduler, worker):
        assert _internal(_pvc_claims(pod)) == allowed, persona
        assert all(_pvc_claims(pod).values()), "dask pods mount data read-only"
        assert _run_as(pod) == {user_uid(persona)}, persona
        assert pod["metadata"]["labels"][UID_LABEL] == str(user_uid(persona))


def test_no_two_personas_share_a_uid_and_none_is_the_images_default():
    uids = {user_uid(p) for p in PERSONAS}
    assert len(uids) == len(PERSONAS) and not uids & {0, 1000}


def test_the_exchange_is_ngshare_not_a_folder(hub_values):  # noqa: F811
    config_py = hub_values["singleuser"]["extraFiles"]["nbgrader-config"]["stringData"]
    assert "configureExchange" in config_py and "/services/ngshare" in config_py
    assert "Exchange.root" not in config_py
    storage = hub_values["singleuser"]["storage"]
    mounted = {v.get("persistentVolumeClaim", {}).get("claimName")
               for v in storage.get("extraVolumes") or []}
    assert not any(name and "exchange" in name for name in mounted)


def test_the_hub_creates_the_users_network_policy_before_each_spawn(hub_app):  # noqa: F811
    """The per-user dask NetworkPolicy (tests/security/test_k8s_network.py) exists only
    if the hub's pre-spawn hook makes it; the chart must wire it."""
    def hook():
        return spawner_for(hub_app).pre_spawn_hook

    assert in_loop(hook) is k8s_model.ensure_user_network_policy
