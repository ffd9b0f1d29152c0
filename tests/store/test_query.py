"""dlclab.store.query.select: exact cuts, and statistics push-down skips row groups."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from dlclab.errors import CutError
from dlclab.store import DataRoot
from dlclab.store.query import parquet_files, row_groups_to_read, select


@pytest.fixture(scope="module")
def oceanus_events(sample_data_root):
    return DataRoot(sample_data_root).release_dir("kascade", "OCEANUS") / "events"


@pytest.mark.parametrize("cuts", [
    [("zenith_deg", "<", 18.0), ("energy_eV", ">=", 1e15)],
    [("energy_eV", ">", 3e14), ("energy_eV", "<=", 1e16), ("core_x_m", "!=", 0.0)],
    [],
])
def test_select_equals_a_full_read_with_pandas(oceanus_events, cuts):
    full = pd.read_parquet(oceanus_events, columns=["uuid", "energy_eV", "zenith_deg", "core_x_m"])
    mask = np.ones(len(full), dtype=bool)
    ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "!=": np.not_equal}
    for column, op, value in cuts:
        mask &= ops[op](full[column].to_numpy(), value)
    got = select(oceanus_events, ["uuid", "energy_eV"], cuts)
    assert sorted(got["uuid"]) == sorted(full.loc[mask, "uuid"])
    np.testing.assert_array_equal(np.sort(got["energy_eV"]), np.sort(full.loc[mask, "energy_eV"]))


def test_energy_cut_skips_row_groups(oceanus_events):
    """Rows are sorted by energy, so a high-energy cut reads few row groups."""
    big = max(parquet_files(oceanus_events), key=lambda p: pq.ParquetFile(p).metadata.num_rows)
    pf = pq.ParquetFile(big)
    assert pf.metadata.num_row_groups >= 2
    kept = row_groups_to_read(pf, [("energy_eV", ">=", 1e16)])
    assert len(kept) == 1 and kept == [pf.metadata.num_row_groups - 1]
    assert row_groups_to_read(pf, [("energy_eV", ">=", 1e20)]) == []
    assert len(row_groups_to_read(pf, [("zenith_deg", "<", 18.0)])) == pf.metadata.num_row_groups


def test_bad_cuts_are_refused(oceanus_events):
    with pytest.raises(CutError, match="no column"):
        select(oceanus_events, ["energy_eV"], [("E", ">", 1e15)])
    with pytest.raises(CutError, match="op one of"):
        select(oceanus_events, ["energy_eV"], [("energy_eV", "~", 1e15)])
