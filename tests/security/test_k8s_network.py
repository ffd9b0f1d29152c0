"""Attack on Kubernetes, on the rendered chart: one user's pods try to reach another user's
dask scheduler and dashboard directly (not through the authenticated gateway proxy).

The chart's static policies plus the per-user policy the hub creates before each spawn
(:func:`dlclab.hub.kubernetes.user_network_policy`) are evaluated with the NetworkPolicy
semantics of ``networking.k8s.io/v1`` (:mod:`tests.security.k8s_network`)."""
from __future__ import annotations

import pytest

from dlclab.hub.kubernetes import UID_LABEL, user_network_policy, user_uid
from tests.deploy.conftest import helm  # noqa: F401  (fixture)
from tests.deploy.test_chart import render
from tests.security.k8s_network import Endpoint, may_connect

SCHEDULER_PORT, DASHBOARD_PORT = 8786, 8787


@pytest.fixture(scope="module")
def policies(helm):  # noqa: F811
    chart = [m for (kind, _), m in render(helm).items() if kind == "NetworkPolicy"]
    return chart + [user_network_policy(name, "dlclab") for name in ("alice", "bob")]


def dask_pod(owner: str, component: str, ip: str) -> Endpoint:
    return Endpoint(f"{owner}-{component}", {"app.kubernetes.io/name": "dask-gateway",
                                             "app.kubernetes.io/component": component,
                                             UID_LABEL: str(user_uid(owner))}, ip)


def server_pod(owner: str, ip: str) -> Endpoint:
    return Endpoint(f"jupyter-{owner}", {"app": "jupyterhub", "component": "singleuser-server",
                                         "hub.jupyter.org/network-access-hub": "true",
                                         UID_LABEL: str(user_uid(owner))}, ip)


def test_a_users_workers_reach_their_own_scheduler(policies):
    assert may_connect(policies, dask_pod("alice", "dask-worker", "10.0.0.11"),
                       dask_pod("alice", "dask-scheduler", "10.0.0.10"), SCHEDULER_PORT)


@pytest.mark.parametrize("port", [SCHEDULER_PORT, DASHBOARD_PORT])
def test_another_users_workers_cannot_reach_a_scheduler(policies, port):
    assert not may_connect(policies, dask_pod("bob", "dask-worker", "10.0.0.21"),
                           dask_pod("alice", "dask-scheduler", "10.0.0.10"), port)


@pytest.mark.parametrize("port", [SCHEDULER_PORT, DASHBOARD_PORT])
def test_another_users_server_cannot_reach_a_scheduler(policies, port):
    assert not may_connect(policies, server_pod("bob", "10.0.1.2"),
                           dask_pod("alice", "dask-scheduler", "10.0.0.10"), port)


def test_uids_differ_and_are_never_shared_defaults():
    uids = {user_uid(n) for n in ("alice", "bob", "carol", "dave")}
    assert len(uids) == 4 and not uids & {0, 1000}
