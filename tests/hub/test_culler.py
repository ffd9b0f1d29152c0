"""The idle culler stops idle servers (and so their dask clusters) but not a server whose
kernel is busy computing; stopping the hub leaves nothing behind."""
from __future__ import annotations

import httpx
import pytest

from tests.hub_harness import LabHub

pytestmark = [pytest.mark.hub, pytest.mark.slow]

# Short times so the test takes seconds: servers report activity every second, so do
# busy kernels; the culler stops servers idle for 15 s and looks every 2 s.
FAST_CULLING = {"culler_timeout_s": 15, "culler_every_s": 2, "activity_interval_s": 1,
                "busy_activity_interval_s": 1.0}


def test_busy_server_survives_the_culler_idle_one_does_not(lab_data_root):
    hub = LabHub(users={"busy": ["students"], "idle": ["students"]}, data_root=lab_data_root,
                 settings=FAST_CULLING)
    with hub:
        for name in ("busy", "idle"):
            hub.admin.start_server(hub.user(name).name)
        ready = hub.admin.server_ready
        hub.admin.wait(lambda: ready(hub.user("busy").name), "busy's server", timeout_s=150)
        busy = hub.kernel("busy")
        busy.send("import time\nwhile True:\n    time.sleep(1)")  # busy, silent, forever
        hub.admin.wait(lambda: ready(hub.user("idle").name), "idle's server", timeout_s=150)
        # a cluster of the idle user: culling its server must stop it too
        with hub.kernel("idle") as idle_kernel:
            idle_kernel.execute("from dask_gateway import Gateway\ngateway = Gateway()\n"
                                "c = gateway.new_cluster(shutdown_on_close=False)")

        idle_name = hub.user("idle").name
        hub.admin.wait(lambda: hub.admin.server_stopped(idle_name), "the culler to stop the "
                       "idle server", timeout_s=120)
        hub.remember_processes()
        # the busy server is as old as the idle one and has not been culled
        assert hub.admin.server_ready(hub.user("busy").name)
        kernels = httpx.get(f"{hub.server_url('busy')}/api/kernels",
                            headers={"Authorization": f"token {hub.token('busy')}"}).json()
        assert [k["execution_state"] for k in kernels] == ["busy"]
        # the idle user's cluster went with its server
        token = hub.token("idle", scopes=["access:services!service=dask-gateway"])
        clusters = httpx.get(f"{hub.url}/services/dask-gateway/api/v1/clusters/",
                             headers={"Authorization": f"jupyterhub {token}"}).json()
        assert clusters == {}
    hub.assert_nothing_left()
