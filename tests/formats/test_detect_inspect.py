"""Format detection from the bytes and `dlclab inspect`."""
from __future__ import annotations

import json
import shutil

import pytest

from dlclab.cli import main
from dlclab.errors import FormatError
from dlclab.formats import taiga
from dlclab.formats.detect import detect_format


@pytest.mark.parametrize("fmt", taiga.FORMATS)
def test_detect_from_bytes_not_name(generated, tmp_path, fmt):
    # a misleading name: detection must look at the bytes
    path = tmp_path / "iact_or_t133_who_knows.001"
    shutil.copyfile(generated[fmt]["path"], path)
    assert detect_format(path) == fmt


def test_detect_real_files(taiga_fixtures):
    assert detect_format(taiga_fixtures / "t133.001") == "tunka133"
    assert detect_format(taiga_fixtures / "iact.001") == "taiga_iact"


def test_detect_hdf5_root_and_unknown(tmp_path):
    (tmp_path / "a.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    (tmp_path / "a.root").write_bytes(b"root" + bytes(100))
    (tmp_path / "a.txt").write_bytes(b"hello world, not a raw file\n")
    assert detect_format(tmp_path / "a.h5") == "kcdc_hdf5"
    assert detect_format(tmp_path / "a.root") == "kcdc_root"
    with pytest.raises(FormatError, match="unknown format") as err:
        detect_format(tmp_path / "a.txt")
    assert err.value.offset == 0 and str(tmp_path / "a.txt") in str(err.value)


def test_inspect_json_real_t133(taiga_fixtures, capsys):
    assert main(["inspect", str(taiga_fixtures / "t133.001"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "format": "tunka133", "bytes": 3964842,
        "sha256": "7555358773205dc78da440599bc0cd7d96febadb189d79f8e01d41b14a81281e",
        "packages": 119 * 33, "events": 119, "first_event": 1, "last_event": 119,
        "first_time": "13:40:33.003", "last_time": "13:58:49.478", "clusters": [1],
        "optical_line_length": 500, "errors": [],
    }


def test_inspect_json_real_iact(taiga_fixtures, capsys):
    assert main(["inspect", str(taiga_fixtures / "iact.001"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "taiga_iact" and out["packages"] == 2995 and out["events"] == 2995
    assert (out["first_event"], out["last_event"]) == (83, 124139)
    assert (out["first_time"], out["last_time"]) == ("12:28:38.915", "12:45:19.777")
    assert out["sha256"] == "532440d9a9d29d087e9ec4964705fe77ad7eeeb9eb2335be83bd708f84621b63"
    assert out["optical_line_length"] is None and out["errors"] == [] and out["boards"] == [0]


def test_inspect_human_and_damaged(taiga_fixtures, tmp_path, capsys):
    assert main(["inspect", str(taiga_fixtures / "t133.001")]) == 0
    text = capsys.readouterr().out
    assert "tunka133" in text and "13:40:33.003 .. 13:58:49.478" in text and "500 m" in text
    path = tmp_path / "cut.001"
    path.write_bytes((taiga_fixtures / "iact.001").read_bytes()[:1000])
    assert main(["inspect", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["packages"] == 6 and len(out["errors"]) == 1 and "truncated" in out["errors"][0]


def test_inspect_generated_grande(generated, capsys):
    assert main(["inspect", str(generated["tunka_grande"]["path"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "tunka_grande" and out["clusters"] == [12]
    assert out["optical_line_length"] == 500 and out["events"] == 5


def test_inspect_kcdc_files_do_not_crash(tmp_path, capsys):
    path = tmp_path / "events.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    main(["inspect", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "kcdc_hdf5"
    assert out["errors"], "a broken HDF5 file (or a missing KCDC module) must be reported"
