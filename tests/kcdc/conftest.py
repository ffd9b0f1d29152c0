"""A small simulated KCDC data set with per-station arrays, exported once per session."""
from __future__ import annotations

import pytest

from dlclab.formats.kcdc import write_export
from dlclab.simulate.kascade import simulate_kascade


@pytest.fixture(scope="session")
def export():
    return simulate_kascade(1200, seed=21, with_arrays=True).to_export(release="TEST", data_set="KASCADE_Test_wA")


@pytest.fixture(scope="session")
def written(export, tmp_path_factory):
    """The same export in all three formats: {format: path returned by write_export}."""
    root = tmp_path_factory.mktemp("kcdc")
    return {fmt: write_export(export, root / fmt, fmt) for fmt in ("ascii", "hdf5", "root")}
