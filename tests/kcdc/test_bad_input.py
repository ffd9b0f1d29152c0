"""Malformed exports raise FormatError naming the file and what was expected."""
from __future__ import annotations

import shutil

import h5py
import pytest

from dlclab.errors import FormatError
from dlclab.formats.kcdc import read_export, summarize


@pytest.fixture
def ascii_copy(written, tmp_path):
    target = tmp_path / "ascii"
    shutil.copytree(written["ascii"], target)
    return target


def test_ascii_missing_column(ascii_copy):
    path = ascii_copy / "array.txt"
    lines = path.read_text().splitlines()
    lines = [(" ".join(line.split()[:-1]) if not line.startswith("#") else line) for line in lines]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError) as err:
        read_export(ascii_copy)
    assert "array.txt" in str(err.value) and "Age" in str(err.value)


def test_ascii_row_count_differs_between_components(ascii_copy):
    path = ascii_copy / "grande.txt"
    lines = path.read_text().splitlines()
    lines = [line.replace("# rows: 1200", "# rows: 1100") for line in lines[:-100]]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match="differ in row count"):
        read_export(ascii_copy)


def test_ascii_truncated_table(ascii_copy):
    path = ascii_copy / "general.txt"
    data = path.read_bytes()
    # cut at a line end: the row count disagrees with the header
    path.write_bytes(data[: data.rindex(b"\n", 0, len(data) // 2) + 1])
    with pytest.raises(FormatError) as err:
        read_export(ascii_copy)
    assert "general.txt" in str(err.value) and "1200 rows" in str(err.value)
    # cut inside a line: a short row
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError) as err:
        read_export(ascii_copy)
    assert "general.txt" in str(err.value) and "7 space-separated fields" in str(err.value)


def test_ascii_missing_component_file(ascii_copy):
    (ascii_copy / "calorimeter.txt").unlink()
    with pytest.raises(FormatError, match="calorimeter.txt"):
        read_export(ascii_copy)


@pytest.mark.parametrize("fmt", ["hdf5", "root"])
def test_truncated_binary_exports(written, tmp_path, fmt):
    src = written[fmt]
    broken = tmp_path / src.name
    broken.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(FormatError) as err:
        read_export(broken)
    assert broken.name in str(err.value)
    summary = summarize(broken)
    assert summary["format"] == f"kcdc_{fmt}" and summary["errors"]


def test_hdf5_missing_dataset_and_uneven_lengths(written, tmp_path):
    path = tmp_path / "events.h5"
    shutil.copy(written["hdf5"], path)
    with h5py.File(path, "a") as h5:
        del h5["array/Nmu"]
    with pytest.raises(FormatError, match=r"/array/Nmu missing"):
        read_export(path)
    shutil.copy(written["hdf5"], path)
    with h5py.File(path, "a") as h5:
        data = h5["grande/Age"][:-5]
        del h5["grande/Age"]
        h5["grande/Age"] = data
    with pytest.raises(FormatError, match="differ in length"):
        read_export(path)
