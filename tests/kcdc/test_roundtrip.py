"""Write -> read of the three KCDC exports gives identical values."""
from __future__ import annotations

import numpy as np

from dlclab.formats.kcdc import KcdcAsciiExport, KcdcHdf5Export, KcdcRootExport, read_export, write_export
from dlclab.formats.kcdc.model import LOG10_CANDIDATES, KcdcExport


def test_three_formats_read_back_identical_values(export, written):
    back = {fmt: read_export(path) for fmt, path in written.items()}
    without_arrays = KcdcExport(tables=export.tables, info=export.info)
    assert back["ascii"].differences(without_arrays) == []
    assert back["hdf5"].differences(export) == []
    assert back["root"].differences(export) == []
    assert back["ascii"].differences(KcdcExport(tables=back["root"].tables, info=back["root"].info)) == []
    for fmt, got in back.items():
        assert list(got.tables) == ["general", "array", "grande", "calorimeter", "truth"], fmt
        assert got.info.simulation and got.info.release == "TEST"
        assert got.info.exposure == export.info.exposure
        assert str(got.tables["general"].UUID.iloc[0]) == str(export.tables["general"].UUID.iloc[0])
        # dtypes follow the quantity table in every format
        assert got.tables["general"].dtypes.astype(str).tolist() == \
            export.tables["general"].dtypes.astype(str).tolist()
    assert back["ascii"].stations is None  # no per-station arrays in ASCII, as at KCDC
    # GRANDE's NaN (not reconstructed) survives all three
    assert back["root"].tables["grande"].Nch.isna().sum() == export.tables["grande"].Nch.isna().sum() > 0


def test_log10_storage_is_declared_and_reads_back_alike(export, tmp_path):
    log10 = list(LOG10_CANDIDATES)
    paths = {fmt: write_export(export, tmp_path / fmt, fmt, log10=log10) for fmt in ("ascii", "hdf5", "root")}
    header = (paths["ascii"] / "array.txt").read_text().splitlines()[:6]
    assert "# log10: E Ne Nmu" in header
    first = (paths["ascii"] / "array.txt").read_text().splitlines()[6].split()
    assert 13 < float(first[0]) < 19  # lg E, not E
    back = {fmt: read_export(p) for fmt, p in paths.items()}
    for fmt in ("hdf5", "root"):
        assert back["ascii"].differences(KcdcExport(tables=back[fmt].tables, info=back[fmt].info)) == []
    e_back = back["hdf5"].tables["array"].E.to_numpy()
    assert np.allclose(e_back, export.tables["array"].E.to_numpy(), rtol=1e-14)
    # only the log10 columns may differ from the source (by rounding), nothing else
    assert all(d.split(":")[0] in LOG10_CANDIDATES for d in back["hdf5"].differences(export))


def test_hdf5_and_root_layouts_mirror_components(written):
    import h5py
    import uproot

    with h5py.File(written["hdf5"]) as h5:
        assert set(h5) == {"general", "array", "grande", "calorimeter", "truth"}
        assert h5["array/E"].attrs["unit"] == "eV"
        assert h5["array/EDeposit"].dtype.metadata["vlen"] == np.float32  # variable length
        assert h5["array/NStations"].shape == h5["array/E"].shape
    with uproot.open(written["root"]) as f:
        tree = f["array"]
        assert {"E", "NStations", "StationId", "EDeposit", "MDeposit", "Arrival"} <= set(tree.keys())
        counts = tree["NStations"].array(library="np")
        jag = tree["EDeposit"].array()
        assert np.array_equal(counts, np.asarray([len(x) for x in jag]))
        assert f["general"].num_entries == f["truth"].num_entries == tree.num_entries


def test_explicit_classes_read_their_own_format(written):
    assert len(KcdcAsciiExport.read(written["ascii"])) == 1200
    assert len(KcdcHdf5Export.read(written["hdf5"])) == 1200
    assert len(KcdcRootExport.read(written["root"].parent)) == 1200
