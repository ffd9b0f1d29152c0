"""The Data Aggregation Service over two XRootD storage instances (``root://`` through
fsspec-xrootd with the service's sss key): a file query and an export collect files from
both; a downloaded file is the stored one; a killed instance gives a clear answer naming it
(HTTP 503, a failed export with nothing recorded complete), never a 500 or a silent gap."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import h5py
import pytest
import yaml

from dlclab.metadata.db import open_catalogue
from dlclab.metadata.extractor import Extractor, StorageSpec
from dlclab.service.adapters import configure_xrootd
from dlclab.service.auth import User
from dlclab.storage.config import load_instances
from dlclab.storage.lab import StorageLab
from tests.metadata.builders import build_raw_taiga, build_release
from tests.service.conftest import make_client

CONFIG = {"instances": [
    {"name": "kit-kascade", "root": "{data_root}",
     "exports": [{"path": "/releases/kascade", "access": "public"}]},
    {"name": "isu-taiga", "root": "{data_root}",
     "exports": [{"path": "/raw/taiga", "access": "taiga"}]}]}


@pytest.fixture(scope="module")
def das():
    """Two instances with their servers, a catalogue extracted from their folders whose
    storage URLs are the servers' ``root://`` URLs, and a TAIGA member's client."""
    base = Path(tempfile.mkdtemp(prefix="dlclab-xrootd-das-"))
    base.chmod(0o755)
    data = base / "data"
    build_raw_taiga(data / "raw" / "taiga", n_files=2, n_events=5)
    build_release(data / "releases", "kascade", "OCEANUS", "public", n_events=50, seed=1)
    subprocess.run(["chmod", "-R", "a+rX", str(data)], check=True)
    subprocess.run(["chgrp", "-R", "taiga", str(data / "raw" / "taiga")], check=True)
    subprocess.run(["chmod", "-R", "o-rwx", str(data / "raw" / "taiga")], check=True)
    (base / "instances.yaml").write_text(yaml.safe_dump(CONFIG))
    lab = StorageLab(load_instances(data, base / "instances.yaml"), base / "state")
    lab.start()
    # the service's identity: its keytab (the XRootD client reads it at first use)
    saved = {k: os.environ.get(k) for k in ("XrdSecSSSKT", "XRD_CONNECTIONRETRY",
                                            "XRD_REQUESTTIMEOUT")}
    configure_xrootd(lab.keys_dir / "dlclab-service.keytab")
    kit, isu = lab.server("kit-kascade"), lab.server("isu-taiga")
    url = f"sqlite:///{base / 'catalogue.sqlite'}"
    engine = open_catalogue(url)
    Extractor(engine, StorageSpec("isu-taiga", data / "raw" / "taiga", "taiga", access="taiga",
                                  url=f"{isu.url}/raw/taiga/")).run()
    Extractor(engine, StorageSpec("kit-kascade", data / "releases", "kascade", access="public",
                                  url=f"{kit.url}/releases/")).run()
    engine.dispose()
    env = {"db_url": url, "export_dir": base / "exports", "data": data, "lab": lab}
    with make_client(env, User("alice", frozenset({"taiga"}))) as client:
        env["client"] = client
        yield env
    lab.stop()
    for key, value in saved.items():  # later tests' clients start without the key
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(base, ignore_errors=True)


def wait_finished(client, request_id: str) -> dict:
    deadline = time.monotonic() + 300  # generous: a loaded 2-core machine
    while time.monotonic() < deadline:
        status = client.get(f"/api/exports/{request_id}").json()
        if status["status"] not in ("queued", "running"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"export {request_id} still {status['status']}")


def test_query_and_export_collect_from_both_instances(das):
    client = das["client"]
    storages = {s["name"]: s["protocol"] for s in client.get("/api/storages").json()}
    assert storages == {"isu-taiga": "root", "kit-kascade": "root"}
    files = client.get("/api/files", params={"limit": 1000}).json()["files"]
    assert {f["storage"] for f in files} == {"isu-taiga", "kit-kascade"}
    for storage, folder in (("isu-taiga", "raw/taiga"), ("kit-kascade", "releases")):
        one = next(f for f in files if f["storage"] == storage)
        reply = client.get(one["data_url"])
        assert reply.status_code == 200, reply.text
        assert reply.content == (das["data"] / folder / one["path"]).read_bytes()
    reply = client.post("/api/exports", json={"format": "HDF5", "query": {}})
    assert reply.status_code == 202, reply.text
    status = wait_finished(client, reply.json()["id"])
    assert status["status"] == "done", status
    with h5py.File(io.BytesIO(client.get(status["download_url"]).content)) as h5:
        components = set(h5)
    assert "tunka133" in components and "kascade" in components, components


def test_a_killed_instance_is_named_and_nothing_is_recorded_complete(das):
    client, lab = das["client"], das["lab"]
    files = client.get("/api/files", params={"limit": 1000}).json()["files"]
    taiga_file = next(f for f in files if f["storage"] == "isu-taiga")
    lab.server("isu-taiga").process.kill()
    lab.server("isu-taiga").process.wait()
    # the catalogue still answers queries; the file itself: 503 naming the instance
    assert client.get("/api/files", params={"limit": 1000}).status_code == 200
    reply = client.get(taiga_file["data_url"])
    assert reply.status_code == 503 and "isu-taiga" in reply.json()["detail"], reply.text
    # an export needing it fails, saying which instance, and leaves no file
    reply = client.post("/api/exports", json={"format": "HDF5", "query": {}})
    status = wait_finished(client, reply.json()["id"])
    assert status["status"] == "failed", status
    assert "isu-taiga" in status["error"] and "unavailable" in status["error"], status
    assert status.get("download_url") is None
    assert not list(das["export_dir"].glob(f"{status['id']}*"))
    # the other instance still serves
    kit_file = next(f for f in files if f["storage"] == "kit-kascade")
    assert client.get(kit_file["data_url"]).status_code == 200
