"""Started and stopped with the lab: a real hub runs hub/services.d/storage.yaml; its status
route lists every configured server running; after the hub stops, none is left."""
from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
from pathlib import Path

from tests.xrootd.conftest import build_tree, xrdfs
from tests.xrootd.test_service import alive, wait_for


def test_the_hub_starts_and_stops_the_storage_servers():
    from tests.hub_harness import LabHub

    base = Path(tempfile.mkdtemp(prefix="dlclab-xrootd-hub-"))
    base.chmod(0o755)
    build_tree(base / "data")
    try:
        with LabHub(data_root=base / "data") as hub:
            def status():
                try:
                    with urllib.request.urlopen(f"{hub.url}/services/storage/", timeout=30) as r:
                        return json.load(r)
                except (OSError, ValueError):
                    return None

            servers = {s["name"]: s for s in wait_for(status, "the storage service answers "
                                                      "through the hub")["servers"]}
            assert set(servers) == {"kit-kascade", "kit-kascade-public", "isu-taiga",
                                    "isu-taiga-public"}
            assert all(s["running"] and s["error"] is None for s in servers.values()), servers
            r = xrdfs(servers["kit-kascade-public"]["url"], "cat", "/raw/kcdc/NABOO/x.txt")
            assert r.stdout == "kcdc export\n", r.stderr
            pids = [s["pid"] for s in servers.values()]
        wait_for(lambda: not any(alive(pid) for pid in pids), "every xrootd has exited")
    finally:
        shutil.rmtree(base, ignore_errors=True)
