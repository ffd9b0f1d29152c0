"""DataShop-like selections (export_selection) and the `dlclab simulate/export` commands."""
from __future__ import annotations

import numpy as np
import pytest

from dlclab.cli import main
from dlclab.errors import CutError
from dlclab.formats.kcdc import export_selection, read_export


def test_export_selection_keeps_exactly_the_rows_passing_the_cuts(export, tmp_path):
    path = export_selection(export, ["E>1e15", "Ze<18"], ["array"], None, "root", tmp_path / "sel")
    sel = read_export(path)
    a = export.tables["array"]
    expected = (a.E > 1e15) & (a.Ze < 18)
    assert 0 < len(sel) == expected.sum()
    assert np.array_equal(sel.tables["array"].E.to_numpy(), a.E[expected].to_numpy())
    assert list(sel.tables) == ["general", "array"]
    assert list(sel.tables["general"].columns) == ["Gt", "Mt", "R", "Ev", "UUID"]  # identity kept
    assert sel.info.cuts == ["E>1e15", "Ze<18"]
    # per-station arrays follow the selected rows
    import awkward as ak
    assert ak.to_list(sel.stations.StationId) == ak.to_list(export.stations.StationId[expected.to_numpy()])


def test_export_selection_from_plain_tables_and_quantity_subset(export, tmp_path):
    tables = {c: t for c, t in export.tables.items() if c in ("general", "array", "grande")}
    path = export_selection(tables, ["grande.Nch>1e5"], None, ["E", "grande.Nch"], "hdf5", tmp_path / "h5")
    sel = read_export(path)
    assert list(sel.tables["array"].columns) == ["E"] and list(sel.tables["grande"].columns) == ["Nch"]
    assert (sel.tables["grande"].Nch > 1e5).all()
    assert len(sel) == (export.tables["grande"].Nch > 1e5).sum()
    with pytest.raises(CutError, match="calorimeter"):
        export_selection(tables, ["Nhad>1"], None, None, "ascii", tmp_path / "x")
    with pytest.raises(CutError, match="nope"):
        export_selection(export, [], ["nope"], None, "ascii", tmp_path / "y")


def test_cli_simulate_then_export(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "kascade", "--events", "400", "--seed", "2", "--format", "ascii,root",
                 "--out", str(out)]) == 0
    ascii_dir = out / "KASCADE_SimulationData_nA_runs_0877-7417_ASCII"
    root_file = out / "KASCADE_SimulationData_nA_runs_0877-7417_ROOT" / "events.root"
    assert (ascii_dir / "truth.txt").exists() and root_file.exists()
    assert not (out / "KASCADE_SimulationData_nA_runs_0877-7417_HDF5").exists()
    assert read_export(ascii_dir).differences(read_export(root_file)) == []
    assert main(["export", "--format", "hdf5", "--cut", "E>3e14", "--cut", "Ze<30",
                 "--component", "array", "--out", str(tmp_path / "sel"), str(root_file)]) == 0
    sel = read_export(tmp_path / "sel")
    src = read_export(root_file)
    assert len(sel) == ((src.tables["array"].E > 3e14) & (src.tables["array"].Ze < 30)).sum()
    capsys.readouterr()
    assert main(["export", "--format", "root", "--cut", "Energy>1", "--out", str(tmp_path / "bad"),
                 str(root_file)]) == 1
    assert "unknown quantity 'Energy'" in capsys.readouterr().err


def test_cli_help_explains_with_examples(capsys):
    for argv in (["simulate", "--help"], ["simulate", "kascade", "--help"], ["export", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        text = capsys.readouterr().out
        assert "examples:" in text and "dlclab " in text
