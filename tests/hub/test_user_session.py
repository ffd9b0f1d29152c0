"""A user's session in the real lab: pre-wired environment, the catalogue, dask-gateway."""
from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.hub_harness import KernelError, LabHub

pytestmark = pytest.mark.hub

GATEWAY_API = "/services/dask-gateway/api/v1/clusters/"


def gateway_clusters(hub: LabHub, user: str) -> dict:
    token = hub.token(user, scopes=["access:services!service=dask-gateway"])
    resp = httpx.get(hub.url + GATEWAY_API, headers={"Authorization": f"jupyterhub {token}"})
    resp.raise_for_status()
    return resp.json()


def test_server_runs_as_the_users_system_user(lab_hub: LabHub, alice_kernel):
    out = alice_kernel.execute("import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name, "
                               "os.environ['HOME'], oct(os.stat(os.environ['HOME']).st_mode & 0o777))")
    name, home, mode = out.split()
    assert name == lab_hub.user("alice").name
    assert home == f"/home/{name}" and mode == "0o700"


def test_catalogue_reads_kcdc_for_all_and_taiga_for_members(lab_hub: LabHub, alice_kernel,
                                                           bob_kernel, sample_data_root):
    kcdc = ("import dlclab\ncat = dlclab.catalog()\n"
            "print(len(cat.kcdc(release='NABOO')['events'].read()))")
    # T2020.1 is the collaboration-internal TAIGA release of the sample
    taiga = ("import dlclab\ncat = dlclab.catalog()\n"
             "print(len(cat.taiga(release='T2020.1')['events'].read()))")
    assert int(alice_kernel.execute(kcdc)) > 0       # public KCDC data: everyone
    assert int(bob_kernel.execute(taiga)) > 0        # TAIGA release: bob is in taiga
    # alice is not: her catalogue does not even name the release, and its files are
    # closed to her by the file system, whatever path she tries
    with pytest.raises(KernelError, match="release 'T2020.1' is not available"):
        alice_kernel.execute(taiga)
    with pytest.raises(KernelError, match="PermissionError"):
        alice_kernel.execute(f"import os\nos.listdir({str(sample_data_root / 'releases' / 'taiga' / 'T2020.1')!r})")


def test_dask_gateway_cluster_with_no_arguments(lab_hub: LabHub, alice_kernel, sample_data_root):
    out = alice_kernel.execute(
        "import os, dlclab\n"
        "from dask_gateway import Gateway\n"
        "gateway = Gateway()\n"
        "cluster = gateway.new_cluster()\n"
        "cluster.scale(2)\n"
        "client = cluster.get_client()\n"
        "client.wait_for_workers(2, timeout=120)\n"
        "entry = dlclab.catalog().kcdc(release='NABOO')\n"
        "events = entry['events_dask'].read()\n"
        "print(int((events.energy_eV > 1e15).sum().compute()),\n"
        "      int((entry['events'].read().energy_eV > 1e15).sum()))\n"
        "print(sorted(set(client.run(os.getuid).values())), os.getuid())\n"
        "client.close()\ncluster.shutdown()\n"
    )
    counts, worker_uids = out.splitlines()[0].split(), out.splitlines()[1]
    assert counts[0] == counts[1] and int(counts[0]) > 0  # computed on the cluster
    # workers run as alice's system user, not as root (LocalBackend)
    uids, own = worker_uids.rsplit(" ", 1)
    assert uids == f"[{own}]"


def test_cluster_options_are_capped(lab_hub: LabHub, alice_kernel):
    from dlclab.hub.settings import LabSettings

    cap = LabSettings().worker_cores_max
    out = alice_kernel.execute(
        "from dask_gateway import Gateway\n"
        "opts = Gateway().cluster_options()\n"
        f"try:\n    opts.worker_cores = {cap + 1}\nexcept ValueError as e:\n    print('refused', e)\n"
        "print(opts.worker_cores)\n"
    )
    assert out.startswith("refused"), out
    assert out.splitlines()[-1] == "1"


def test_clusters_stop_when_their_owners_server_stops(lab_hub: LabHub):
    """dask/dask-gateway#260: the spawner's post-stop hook stops the owner's clusters."""
    assert lab_hub.admin.server_ready(lab_hub.user("carol").name)  # started by the fixture
    kernel = lab_hub.kernel("carol")
    # shutdown_on_close=False: nothing on the client side stops it, only the hub's hook
    name = kernel.execute("from dask_gateway import Gateway\ngateway = Gateway()\n"
                          "cluster = gateway.new_cluster(shutdown_on_close=False)\n"
                          "print(cluster.name)").strip()
    assert list(gateway_clusters(lab_hub, "carol")) == [name]  # running while the server runs
    lab_hub.stop_server("carol")
    assert gateway_clusters(lab_hub, "carol") == {}


def test_jupyterlab_has_the_dask_extension_and_voila(lab_hub: LabHub, alice_kernel):
    headers = {"Authorization": f"token {lab_hub.token('alice')}"}
    lab = httpx.get(lab_hub.server_url("alice") + "/lab", headers=headers)
    assert lab.status_code == 200
    page_config = json.loads(re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
        lab.text, re.S).group(1))
    assert "dask-labextension" in {e["name"] for e in page_config["federated_extensions"]}
    # nothing fetched from the internet, no consent pop-up for it
    assert page_config["news"]["disabled"] is True
    assert "@jupyterlab/apputils-extension:announcements" in page_config["disabledExtensions"]
    alice_kernel.execute(
        "import nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('print(\"voila \" + str(6 * 7))')])\n"
        "nbformat.write(nb, 'voila_check.ipynb')\n")
    page = httpx.get(lab_hub.server_url("alice") + "/voila/render/voila_check.ipynb",
                     headers=headers, timeout=120)
    assert page.status_code == 200 and "voila 42" in page.text
