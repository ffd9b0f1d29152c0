"""A lab-shaped data root (KASCADE releases and exports public, TAIGA raw data and one
release internal to the taiga group with the lab's Unix permissions) served by real XRootD
servers on free loopback ports: the two instances of a storage configuration like the
lab's, each with its anonymous server."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from dlclab.storage.config import load_instances
from dlclab.storage.lab import StorageLab
from dlclab.storage.xrootd import client_env

CONFIG = {"instances": [
    {"name": "kit-kascade", "root": "{data_root}",
     "exports": [{"path": "/releases/kascade", "access": "public"},
                 {"path": "/raw/kcdc", "access": "public"}]},
    {"name": "isu-taiga", "root": "{data_root}",
     "exports": [{"path": "/raw/taiga", "access": "taiga"},
                 {"path": "/releases/taiga/T2020.1", "access": "taiga"},
                 {"path": "/releases/taiga/T2020.1-EDU", "access": "public"}]}]}


def build_tree(root: Path) -> None:
    for rel, data in {"releases/kascade/OCEANUS/events/a.dat": os.urandom(100_000),
                      "raw/kcdc/NABOO/x.txt": b"kcdc export\n",
                      "raw/taiga/tunka133/run1.dat": b"taiga raw, collaboration only\n",
                      "releases/taiga/T2020.1/files.txt": b"taiga internal release\n",
                      "releases/taiga/T2020.1-EDU/files.txt": b"taiga public release\n"}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)
    # like the lab's data root: the collaboration's folders are its group's only
    for rel in ("raw/taiga", "releases/taiga/T2020.1"):
        subprocess.run(["chgrp", "-R", "taiga", str(root / rel)], check=True)
        subprocess.run(["chmod", "-R", "o-rwx", str(root / rel)], check=True)


@pytest.fixture(scope="session")
def storage_base():
    # not below pytest's tmp folder: it is private to root, the servers run as xrootd
    base = Path(tempfile.mkdtemp(prefix="dlclab-xrootd-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_config(storage_base) -> Path:
    data = storage_base / "data"
    build_tree(data)
    path = storage_base / "instances.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


@pytest.fixture(scope="session")
def storage_lab(storage_base, lab_config):
    lab = StorageLab(load_instances(storage_base / "data", lab_config), storage_base / "state")
    lab.start()
    yield lab
    lab.stop()


def xrdfs(url: str, *args: str, keytab: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["xrdfs", url, *args], env=client_env(keytab), capture_output=True,
                          text=True, check=False, timeout=120)
