"""Writers -> readers: value-exact and byte-exact for all five formats."""
from __future__ import annotations

import numpy as np
import pytest

from dlclab.formats import taiga
from dlclab.formats.taiga import layout as ksy


def test_tunka133_values(generated):
    g = generated["tunka133"]
    v = g["values"]
    data = taiga.Tunka133Reader(g["path"]).read()
    assert g["path"].stat().st_size == 7 * 33318
    np.testing.assert_array_equal(data.fadc, v["fadc"])
    np.testing.assert_array_equal(data.events["event_number"], v["event_number"])
    np.testing.assert_array_equal(data.events["time_ns"], v["time_ns"])
    np.testing.assert_array_equal(data.events["cluster"], v["cluster"])
    np.testing.assert_array_equal(data.events["optical_line_length"], 1000)
    # the timer words carry the same time as a 10 ns stamp
    np.testing.assert_array_equal(
        taiga.decode_time_stamp(*data.info["timer_words"][:, :3].T), v["time_ns"])


def test_tunka_rex_values(generated):
    g = generated["tunka_rex"]
    v = g["values"]
    data = taiga.TunkaRexReader(g["path"]).read()
    assert data.fadc.shape == (9, 4, 512)
    np.testing.assert_array_equal(data.fadc, v["fadc"])
    np.testing.assert_array_equal(data.events["time_ns"], v["time_ns"])
    assert set(data.events["cluster"]) == {7} and set(data.events["optical_line_length"]) == {750}
    assert data.n_packages == 9 * 5


def test_tunka_grande_values(generated):
    g = generated["tunka_grande"]
    v = g["values"]
    data = taiga.TunkaGrandeReader(g["path"]).read()
    assert g["path"].stat().st_size == 5 * 16476
    np.testing.assert_array_equal(data.samples, v["samples"])
    np.testing.assert_array_equal(data.events["time_ns"], v["time_ns"])
    np.testing.assert_array_equal(data.events["event_number"], v["event_number"])
    assert set(data.link) == {3}
    np.testing.assert_array_equal(data.channel_bits("channel"), np.tile(np.arange(8), (5, 1)))
    np.testing.assert_array_equal(data.channel_bits("link"), 2)
    assert data.summary()["clusters"] == [12] and data.summary()["optical_line_length"] == 500
    # the documented byte-order decision: optical line length u2le at bytes 22..23 of
    # the package, cluster the byte at 20, channel word u2le with the channel in bits 0-3
    raw = g["path"].read_bytes()
    assert raw[20] == 12 and raw[22:24] == (500).to_bytes(2, "little")
    assert int.from_bytes(raw[24 + 4 + 2 + 2056:24 + 4 + 2 + 2056 + 2], "little") == 1 | (2 << 5)


def test_taiga_iact_values(generated):
    g = generated["taiga_iact"]
    v = g["values"]
    data = taiga.TaigaIactReader(g["path"]).read()
    np.testing.assert_array_equal(data.high_gain, v["high_gain"])
    np.testing.assert_array_equal(data.low_gain, v["low_gain"])
    np.testing.assert_array_equal(data.board, v["board"])
    np.testing.assert_array_equal(data.time_ns, v["time_ns"])
    ev = data.events
    assert len(ev) == 10 and set(ev["n_packages"]) == {4}
    np.testing.assert_array_equal(ev["event_number"], np.unique(v["event_number"]))
    # board 17 in the first 5 bits (Kaitai's big-endian bit order): byte 20 = 17 << 3
    raw = g["path"].read_bytes()
    assert raw[2 * 156 + 20] == 17 << 3


def test_taiga_hiscore_values(generated):
    g = generated["taiga_hiscore"]
    v = g["values"]
    data = taiga.TaigaHiscoreReader(g["path"]).read()
    np.testing.assert_array_equal(data.traces, v["traces"])
    np.testing.assert_array_equal(data.offsets, v["offsets"])
    np.testing.assert_array_equal(data.sample_counts, 33)
    np.testing.assert_array_equal(data.events["station"], v["station"])
    np.testing.assert_array_equal(data.events["time_ns"], v["time_ns"])
    assert set(data.events["ip"]) == {42}
    assert g["path"].stat().st_size == 6 * (24 + 9 * (4 + 2 * 33) + 4)


def test_hiscore_blocks_of_different_lengths_round_trip(generated, tmp_path):
    """Packages whose blocks (and hence sizes) differ go through the general scan."""
    data = taiga.TaigaHiscoreReader(generated["taiga_hiscore"]["path"]).read()
    packages = data.packages.copy()
    counts = np.array([[33, 5, 0, 33, 1, 2, 3, 4, 33]] * 3 + [[33] * 9] * 3)
    packages["blocks"]["sample_count"] = counts
    packages["samples"][np.arange(33)[None, None, :] >= counts[..., None]] = 0
    packages["package_size"] = 9 * 4 + 2 * counts.sum(axis=1) + 4
    taiga.write_packages(tmp_path / "mixed.001", "taiga_hiscore", packages)
    back = taiga.TaigaHiscoreReader(tmp_path / "mixed.001").read()
    np.testing.assert_array_equal(back.sample_counts, counts)
    np.testing.assert_array_equal(back.traces, packages["samples"])
    chunks = list(taiga.TaigaHiscoreReader(tmp_path / "mixed.001").iter_chunks(4))
    assert [len(c.packages) for c in chunks] == [4, 2]
    taiga.write_packages(tmp_path / "again.001", "taiga_hiscore", back.packages)
    assert (tmp_path / "again.001").read_bytes() == (tmp_path / "mixed.001").read_bytes()


@pytest.mark.parametrize("fmt", taiga.FORMATS)
def test_write_packages_is_byte_exact(generated, tmp_path, fmt):
    path = generated[fmt]["path"]
    data = taiga.read_file(path)
    assert data.format == fmt
    taiga.write_packages(tmp_path / "copy.001", fmt, data.packages)
    assert (tmp_path / "copy.001").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("fmt", ["tunka_rex", "tunka_grande", "taiga_iact"])
def test_chunked_reading_equals_whole(generated, fmt):
    reader = taiga.READERS[fmt](generated[fmt]["path"])
    whole = reader.read()
    chunks = list(reader.iter_chunks(2))
    assert sum(len(c.packages) for c in chunks) == len(whole.packages)
    # compare bytes chunk by chunk (np.concatenate would canonicalise the big-endian
    # MAROC word to native byte order)
    assert b"".join(c.packages.tobytes() for c in chunks) == whole.packages.tobytes()


def test_writers_refuse_wrong_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"fadc must have shape \(2, 32, 512\)"):
        taiga.write_tunka133(tmp_path / "x.001", event_number=[1, 2], time_ns=[0, 1],
                             fadc=np.zeros((2, 4, 512)), cluster=1)
    with pytest.raises(ValueError, match="uint16"):
        taiga.write_taiga_iact(tmp_path / "x.001", event_number=[1], time_ns=[0], board=[0],
                               high_gain=np.full((1, 32), 70000), low_gain=np.zeros((1, 32)))
    assert not (tmp_path / "x.001").exists()


def test_time_stamp_formula():
    # d0..d2 of the first real IACT package: 12:28:38.915 484 350
    assert taiga.decode_time_stamp(0xF223, 0x3726, 0x0639) == (
        ((12 * 60 + 28) * 60 + 38) * 10**9 + 915_484_350)
    t = np.array([0, 10, 86_399_999_999_990, 45_000_123_456_780])
    words = taiga.encode_time_stamp(t)
    np.testing.assert_array_equal(taiga.decode_time_stamp(*words[:, :3].T), t)
    with pytest.raises(ValueError):
        taiga.encode_time_stamp([86_400 * 10**9])


def test_layouts_come_from_the_ksy():
    sizes = {"tunka133": 33318, "tunka_rex": 4198, "tunka_grande": 16476, "taiga_iact": 156}
    for fmt, size in sizes.items():
        assert ksy.load(fmt).record.dtype.itemsize == size
    # a changed .ksy changes the decoder: the sample count follows package_size's valid
    text = ksy.ksy_path("tunka133").read_text().replace("valid: 1033", "valid: 521")
    import yaml

    changed = ksy.KsyLayout(yaml.safe_load(text))
    assert changed.record.dtype["data"].base["fadc"].shape == (256,)


def test_every_ksy_field_is_documented():
    import yaml

    for fmt in taiga.FORMATS:
        spec = yaml.safe_load(ksy.ksy_path(fmt).read_text())
        for attr in spec["seq"]:
            assert attr.get("doc"), (fmt, attr["id"])
        for name, t in spec["types"].items():
            for attr in t.get("seq", []):
                assert attr.get("doc"), (fmt, name, attr["id"])


def test_iact_events_group_packages_by_event_number(tmp_path):
    # packages of one event need not be adjacent; events keep the order of first appearance
    events = np.array([5, 5, 3, 3, 5, 9])
    taiga.write_taiga_iact(tmp_path / "i.001", event_number=events, time_ns=np.arange(6) * 10,
                           board=np.arange(6), high_gain=np.zeros((6, 32)), low_gain=np.zeros((6, 32)))
    ev = taiga.read_file(tmp_path / "i.001").events
    assert list(ev["event_number"]) == [5, 3, 9]
    assert list(ev["n_packages"]) == [3, 2, 1]
    assert list(ev["time_ns"]) == [0, 20, 50]


def test_metadata_fields_marked_in_the_ksy():
    """The extractor finds event number, time and equipment through -dlclab-metadata."""
    t133 = ksy.load("tunka133").metadata_fields()
    assert t133["event_number"] == [("info", "event_number")]
    assert t133["optical_line_length"] == [("info", "optical_line_length")]
    assert ("info", "cluster_number") in t133["cluster"]
    iact = ksy.load("taiga_iact").metadata_fields()
    assert iact["board"] == [("maroc", "board")] and iact["time"] == [("time",)]
    assert ksy.load("taiga_hiscore").metadata_fields()["station"] == [("station_number",)]
    grande = ksy.load("tunka_grande").metadata_fields()
    assert set(grande) == {"event_number", "time", "cluster", "optical_line_length"}
