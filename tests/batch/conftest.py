"""One real local Slurm cluster (munged, slurmctld, two slurmd) from
:mod:`dlclab.batch.localslurm` and one lab hub on it, for tests/batch only (package
scope: both are gone before other areas' tests run); teardown asserts that none of it
is left running."""
from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from dlclab.batch.localslurm import LocalSlurm, LocalSlurmConfig


@pytest.fixture(scope="package")
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


@pytest.fixture(scope="package")
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



@pytest.fixture(scope="package")
def slurm_lab(local_slurm: LocalSlurm, sample_data_root: Path):
    """A real lab hub whose dask-gateway submits to the local Slurm cluster; alice
    (kascade) and bob (taiga) as system users. Teardown: nothing of theirs left."""
    from tests.hub_harness import LabHub

    hub = LabHub(users={"alice": ["kascade"], "bob": ["taiga"]},
                 data_root=sample_data_root.resolve(),
                 settings=slurm_settings(local_slurm))
    with hub:
        yield hub
        hub.remember_processes()
    hub.assert_nothing_left()
    assert not local_slurm.job_ids(), "Slurm jobs outlived the lab"


def slurm_settings(cluster: LocalSlurm) -> dict:
    """The LabSettings fields of a lab on ``cluster`` (as `dlclab lab --batch slurm`)."""
    # a job ended by Slurm is noticed sooner than the default 30 s
    return {**cluster.lab_settings(), "slurm_poll_interval_s": 5}
