"""The real TAIGA samples parse exactly as their README says, and round-trip byte for byte."""
from __future__ import annotations

import numpy as np

from dlclab.formats import taiga
from dlclab.units import format_ns_of_day


def test_t133_ground_truth(taiga_fixtures):
    data = taiga.Tunka133Reader(taiga_fixtures / "t133.001").read()
    assert data.format == "tunka133"
    assert len(data.packages) == 119
    ev = data.events
    assert list(ev["event_number"]) == list(range(1, 120))
    assert list(data.packages["data"]["event_number"][0]) == list(range(32))
    assert set(ev["cluster"]) == {1}
    assert set(data.packages["data"]["cluster_number"].ravel()) == {1}
    assert set(ev["optical_line_length"]) == {500}
    assert format_ns_of_day(ev["time_ns"].iloc[0]) == "13:40:33.003"
    assert format_ns_of_day(ev["time_ns"].iloc[-1]) == "13:58:49.478"
    assert ev["time_ns"].dtype == np.int64
    assert data.fadc.shape == (119, 32, 512) and data.fadc.dtype == np.uint16
    # baseline near 2048 ADC counts, as DOMAIN.md says
    assert 2000 < np.median(data.fadc) < 2100
    # first samples of the first package, read off the hexdump (06 08 08 08 08 08 05 08)
    assert list(data.fadc[0, 0, :4]) == [0x0806, 0x0808, 0x0808, 0x0805]


def test_iact_ground_truth(taiga_fixtures):
    data = taiga.TaigaIactReader(taiga_fixtures / "iact.001").read()
    assert data.format == "taiga_iact"
    assert len(data.packages) == 2995 and data.packages.dtype.itemsize == 156
    assert set(data.board) == {0}
    ev = data.events
    assert len(ev) == 2995 and ev["event_number"].nunique() == 2995
    assert ev["event_number"].iloc[0] == 83 and ev["event_number"].iloc[-1] == 124139
    assert format_ns_of_day(ev["time_ns"].iloc[0]) == "12:28:38.915"
    assert format_ns_of_day(ev["time_ns"].iloc[-1]) == "12:45:19.777"
    assert ev["time_ns"].iloc[0] == ((12 * 60 + 28) * 60 + 38) * 10**9 + 915_484_350
    assert data.high_gain.shape == (2995, 32) and data.high_gain.dtype == np.uint16
    assert data.high_gain.min() == 632 and data.high_gain.max() == 8249
    assert data.low_gain.min() == 572 and data.low_gain.max() == 1848


def test_read_file_detects_the_real_formats(taiga_fixtures):
    assert taiga.read_file(taiga_fixtures / "t133.001").format == "tunka133"
    assert taiga.read_file(taiga_fixtures / "iact.001").format == "taiga_iact"


def test_write_packages_reproduces_real_files(taiga_fixtures, tmp_path):
    for name, fmt in (("t133.001", "tunka133"), ("iact.001", "taiga_iact")):
        original = taiga_fixtures / name
        data = taiga.read_file(original)
        n = taiga.write_packages(tmp_path / name, fmt, data.packages)
        assert n == original.stat().st_size
        assert (tmp_path / name).read_bytes() == original.read_bytes()


def test_chunks_cover_the_file(taiga_fixtures):
    reader = taiga.Tunka133Reader(taiga_fixtures / "t133.001")
    chunks = list(reader.iter_chunks(50))
    assert [len(c.packages) for c in chunks] == [50, 50, 19]
    assert [c.first_record for c in chunks] == [0, 50, 100]
    whole = reader.read()
    np.testing.assert_array_equal(np.concatenate([c.fadc for c in chunks]), whole.fadc)
    assert list(np.concatenate([c.events["event_number"] for c in chunks])) == list(range(1, 120))
