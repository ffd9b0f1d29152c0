"""sniff / summarize for `dlclab inspect`, and read_export's detection."""
from __future__ import annotations

import hashlib
import re
import shutil

import pytest

from dlclab.errors import FormatError
from dlclab.formats.kcdc import read_export, sniff, summarize


def test_sniff_detects_each_format_by_content(written, tmp_path):
    assert sniff(written["ascii"]) == "kcdc_ascii"
    assert sniff(written["ascii"] / "array.txt") == "kcdc_ascii"
    assert sniff(written["hdf5"]) == "kcdc_hdf5"
    assert sniff(written["root"]) == "kcdc_root"
    assert sniff(written["root"].parent) == "kcdc_root"  # a KCDC _ROOT folder
    # the name is only a hint: a renamed HDF5 export is still HDF5
    renamed = tmp_path / "data.bin"
    shutil.copy(written["hdf5"], renamed)
    assert sniff(renamed) == "kcdc_hdf5"
    other = tmp_path / "t133.001"
    other.write_bytes(b"\xff\xff\xa0" + bytes(100))
    assert sniff(other) is None
    assert sniff(tmp_path / "missing") is None


def test_summarize_reports_events_times_and_checksum(export, written):
    general = export.tables["general"]
    for fmt, path in written.items():
        s = summarize(path)
        assert s["format"] == f"kcdc_{fmt}"
        assert s["events"] == 1200 and s["errors"] == []
        assert s["first_event"] == int(general.Ev.iloc[0]) and s["last_event"] == int(general.Ev.iloc[-1])
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", s["first_time"])
        gt, mt = int(general.Gt.iloc[0]), int(general.Mt.iloc[0])
        h, rem = divmod(gt % 86400, 3600)
        assert s["first_time"] == f"{h:02d}:{rem // 60:02d}:{rem % 60:02d}.{mt // 1_000_000:03d}"
        assert s["packages"] is None and s["clusters"] == [] and s["optical_line_length"] is None
    h5 = written["hdf5"]
    assert summarize(h5)["sha256"] == hashlib.sha256(h5.read_bytes()).hexdigest()
    assert summarize(h5)["bytes"] == h5.stat().st_size
    digest = hashlib.sha256()
    for f in sorted(written["ascii"].iterdir()):
        digest.update(f.read_bytes())
    assert summarize(written["ascii"])["sha256"] == digest.hexdigest()


def test_read_export_refuses_what_is_not_an_export(tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    with pytest.raises(FormatError, match="junk.txt.*not a KCDC export"):
        read_export(junk)
    with pytest.raises(FormatError, match="no such file"):
        read_export(tmp_path / "nothing")
