"""Attack: open another user's dask dashboard by its cluster name (dask/dask-gateway#570).

dask-gateway's proxy serves ``/services/dask-gateway/clusters/<name>/`` (the cluster's
dashboard: task stream, worker logs, the data's shapes and names) without asking who
calls. In the lab the gateway proxy routes no dashboard; the link a user's client gets
leads through the owner's own server (jupyter-server-proxy), which the hub opens to the
owner only; and the dashboards themselves (scheduler's and workers', on loopback) answer
only connections from the owner's uid (:mod:`dlclab.hub.dashboard_guard`), so bob cannot
connect to their ports himself, nor through his own server's proxy.
"""
from __future__ import annotations

import sys
from urllib.parse import urlsplit

import httpx
import pytest

from tests.hub_harness import LabHub

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def hub():
    with LabHub(users={"alice": ["students"], "bob": ["students"]}) as lab:
        lab.start_server("alice")
        lab.start_server("bob")
        yield lab


@pytest.fixture(scope="module")
def alices_cluster(hub: LabHub):
    with hub.kernel("alice") as k:
        out = k.execute("from dask_gateway import Gateway\n"
                        "cluster = Gateway().new_cluster()\n"
                        "print(cluster.name)\nprint(cluster.dashboard_link)\n"
                        "cluster.scale(1)\nclient = cluster.get_client()\n"
                        "client.wait_for_workers(1, timeout=300)\n"
                        "w = next(iter(client.scheduler_info()['workers'].values()))\n"
                        "print(w['services']['dashboard'])")
        name, link, worker_port = out.split()
        try:
            yield name, link, int(worker_port)
        finally:
            k.execute("cluster.shutdown()")


def _shows_a_dashboard(resp: httpx.Response) -> bool:
    return resp.status_code == 200 and "Dask" in resp.text


def test_the_owner_opens_the_dashboard_through_their_own_server(hub: LabHub, alices_cluster):
    _, link, _ = alices_cluster
    assert f"/user/{hub.user('alice').name}/proxy/" in link, link
    resp = httpx.get(link, headers={"Authorization": f"token {hub.token('alice')}"},
                     follow_redirects=True, timeout=60)
    assert _shows_a_dashboard(resp), (resp.status_code, resp.text[:200])


@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_nobody_else_opens_it(hub: LabHub, alices_cluster, who: str):
    name, link, _ = alices_cluster
    headers = {} if who == "anonymous" else {"Authorization": f"token {hub.token('bob')}"}
    for url in (link, f"{hub.url}/services/dask-gateway/clusters/{name}/status"):
        resp = httpx.get(url, headers=headers, follow_redirects=True, timeout=60)
        assert not _shows_a_dashboard(resp), f"{who} sees alice's dashboard at {url}"


#: bob's probe, as his OS user: what answers at a loopback port
PROBE = ("import sys, urllib.request\n"
         "try:\n"
         "    body = urllib.request.urlopen(sys.argv[1], timeout=60).read().decode()\n"
         "    print('ANSWERED', 'Dask' in body)\n"
         "except Exception as exc:\n"
         "    print('FAILED', type(exc).__name__, exc)\n")


def _scheduler_port(link: str) -> int:
    return int(urlsplit(link).path.split("/proxy/")[1].split("/")[0])


@pytest.mark.parametrize("server", ["scheduler", "worker"])
def test_another_user_cannot_connect_to_the_dashboard_port(hub: LabHub, alices_cluster, server):
    """bob, in a terminal of his own server, connects to 127.0.0.1:<port> himself."""
    _, link, worker_port = alices_cluster
    port = _scheduler_port(link) if server == "scheduler" else worker_port
    path = "/status" if server == "scheduler" else "/health"
    out = hub.run_as("bob", [sys.executable, "-c", PROBE, f"http://127.0.0.1:{port}{path}"]).stdout
    assert out.startswith("FAILED"), f"alice's {server} dashboard answered bob: {out}"


def test_another_user_cannot_reach_it_through_his_own_server(hub: LabHub, alices_cluster):
    """bob asks his own server's jupyter-server-proxy for alice's dashboard port."""
    _, link, _ = alices_cluster
    bob = hub.user("bob").name
    url = f"{hub.url}/user/{bob}/proxy/{_scheduler_port(link)}/status"
    resp = httpx.get(url, headers={"Authorization": f"token {hub.token('bob')}"},
                     follow_redirects=True, timeout=60)
    assert not _shows_a_dashboard(resp), f"bob's server proxied alice's dashboard: {resp.status_code}"


def test_a_local_cluster_in_a_kernel_is_guarded_too(hub: LabHub):
    """alice starts a LocalCluster in her kernel (dashboard on a loopback port): bob
    cannot connect to it; alice opens it through her server."""
    with hub.kernel("alice") as k:
        port = k.execute("from distributed import LocalCluster\n"
                         "local = LocalCluster(n_workers=1, threads_per_worker=1, "
                         "dashboard_address='127.0.0.1:0')\n"
                         "print(local.scheduler.http_server.port)").strip()
        try:
            out = hub.run_as("bob", [sys.executable, "-c", PROBE,
                                     f"http://127.0.0.1:{port}/status"]).stdout
            assert out.startswith("FAILED"), f"alice's LocalCluster dashboard answered bob: {out}"
            resp = httpx.get(f"{hub.server_url('alice')}/proxy/{port}/status",
                             headers={"Authorization": f"token {hub.token('alice')}"},
                             follow_redirects=True, timeout=60)
            assert _shows_a_dashboard(resp), (resp.status_code, resp.text[:200])
        finally:
            k.execute("local.close()")
