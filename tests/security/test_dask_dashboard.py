"""Attack: open another user's dask dashboard by its cluster name (dask/dask-gateway#570).

dask-gateway's proxy serves ``/services/dask-gateway/clusters/<name>/`` (the cluster's
dashboard: task stream, worker logs, the data's shapes and names) without asking who
calls. In the lab the gateway proxy routes no dashboard; the link a user's client gets
leads through the owner's own server (jupyter-server-proxy), which the hub opens to the
owner only.
"""
from __future__ import annotations

import httpx
import pytest

from tests.hub_harness import LabHub

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def hub():
    with LabHub(users={"alice": ["students"], "bob": ["students"]}) as lab:
        lab.start_server("alice")
        yield lab


@pytest.fixture(scope="module")
def alices_cluster(hub: LabHub):
    with hub.kernel("alice") as k:
        out = k.execute("from dask_gateway import Gateway\n"
                        "cluster = Gateway().new_cluster()\n"
                        "print(cluster.name)\nprint(cluster.dashboard_link)")
        name, link = out.split()
        try:
            yield name, link
        finally:
            k.execute("cluster.shutdown()")


def _shows_a_dashboard(resp: httpx.Response) -> bool:
    return resp.status_code == 200 and "Dask" in resp.text


def test_the_owner_opens_the_dashboard_through_their_own_server(hub: LabHub, alices_cluster):
    _, link = alices_cluster
    assert f"/user/{hub.user('alice').name}/proxy/" in link, link
    resp = httpx.get(link, headers={"Authorization": f"token {hub.token('alice')}"},
                     follow_redirects=True, timeout=60)
    assert _shows_a_dashboard(resp), (resp.status_code, resp.text[:200])


@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_nobody_else_opens_it(hub: LabHub, alices_cluster, who: str):
    name, link = alices_cluster
    headers = {} if who == "anonymous" else {"Authorization": f"token {hub.token('bob')}"}
    for url in (link, f"{hub.url}/services/dask-gateway/clusters/{name}/status"):
        resp = httpx.get(url, headers=headers, follow_redirects=True, timeout=60)
        assert not _shows_a_dashboard(resp), f"{who} sees alice's dashboard at {url}"
