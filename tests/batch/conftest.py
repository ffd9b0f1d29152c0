"""One real local Slurm cluster for the session (munged, slurmctld, two slurmd), from
:mod:`dlclab.batch.localslurm`; teardown asserts that none of it is left running."""
from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from dlclab.batch.localslurm import LocalSlurm, LocalSlurmConfig


@pytest.fixture(scope="session")
def local_slurm():
    state = Path(tempfile.mkdtemp(prefix="dlclab-slurm-test-"))
    cluster = LocalSlurm(LocalSlurmConfig(state_dir=state))
    try:
        with cluster:
            yield cluster
        assert not cluster.running, "a Slurm daemon outlived LocalSlurm.stop()"
        assert not cluster.stray_processes(), "a job's slurmstepd outlived the cluster"
    finally:
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def two_users():
    """Two throw-away system users (names), removed at the end."""
    from dlclab.hub import unix

    prefix = f"s{secrets.token_hex(3)}"
    names = [f"{prefix}-ann", f"{prefix}-ben"]
    for name in names:
        subprocess.run(["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", name],
                       check=True)
    try:
        yield names
    finally:
        for name in names:
            unix.delete_system_user(name)

