"""A server that dies while a file is being read: the service's adapter raises
StorageUnavailable naming the storage (no crash of the XRootD client, no short read
passed off as the file)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from dlclab.service.adapters import StorageAdapter, StorageUnavailable, configure_xrootd
from dlclab.storage.config import load_instances
from dlclab.storage.lab import StorageLab


@pytest.fixture
def one_server():
    base = Path(tempfile.mkdtemp(prefix="dlclab-xrootd-lost-"))
    base.chmod(0o755)
    (base / "data" / "pub").mkdir(parents=True)
    (base / "data" / "pub" / "big.dat").write_bytes(os.urandom(24 << 20))
    subprocess.run(["chmod", "-R", "a+rX", str(base)], check=True)
    (base / "i.yaml").write_text(yaml.safe_dump({"instances": [
        {"name": "isu-taiga", "root": "{data_root}",
         "exports": [{"path": "/pub", "access": "public"}]}]}))
    lab = StorageLab(load_instances(base / "data", base / "i.yaml"), base / "state")
    lab.start()
    yield lab
    lab.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_a_server_killed_mid_read_is_a_clear_error(one_server):
    # the anonymous server: an XRootD client reads its sss keytab once per process, and
    # other test modules' clients may have loaded another lab's
    server = one_server.server("isu-taiga-public")
    configure_xrootd(None)  # the service's patience: one connection retry
    adapter = StorageAdapter(f"{server.url}/pub/")
    with adapter.open("big.dat") as handle:
        first = handle.read(1 << 20)  # one block fetched; most of the file is not
        assert len(first) == 1 << 20
        server.process.kill()
        server.process.wait()
        handle.seek(20 << 20)
        with pytest.raises(StorageUnavailable, match=server.url.rstrip("/")):
            handle.read(1 << 20)
