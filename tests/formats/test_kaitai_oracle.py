"""Cross-check of the bulk decoder against parsers the official Kaitai Struct compiler
generates from the same .ksy files (npm kaitai-struct-compiler 0.11, run by the
``kaitai_parsers`` fixture). Every field of every package is compared, on the real
samples (a prefix: the generated parsers run at a few MB/s) and on generated files."""
from __future__ import annotations

import numpy as np
import pytest
from kaitaistruct import KaitaiStream
from io import BytesIO

from dlclab.formats import taiga
from dlclab.formats.taiga import layout as ksy
from dlclab.formats.taiga.timestamp import decode_time_struct
from dlclab.formats.taiga.variable import BlockedLayout

PRIMITIVES = ("u1", "u2", "u4", "u8", "s1", "s2", "s4", "s8", "f4", "f8")


def _values(obj, layout: ksy.KsyLayout, type_name: str):
    """A Kaitai object -> nested tuples/lists in the order of our structured dtype."""
    t = layout.type(type_name)
    if t.bit_fields:
        return int(layout.pack_bits(type_name, **{b.name: getattr(obj, b.name) for b in t.bit_fields}))
    out = []
    for attr in t.fields:
        if t.dtype is not None and attr["id"] not in t.dtype.names:
            continue
        value = getattr(obj, attr["id"])
        kind = str(attr.get("type", ""))
        if "contents" in attr:
            out.append(tuple(value))
        elif kind and kind[:2] not in PRIMITIVES:
            out.append([_values(v, layout, kind) for v in value] if isinstance(value, list)
                       else _values(value, layout, kind))
        else:
            out.append(value)
    return tuple(out)


def _oracle_records(parsers, fmt: str, data: bytes) -> tuple[np.ndarray, list]:
    layout = ksy.load(fmt)
    parsed = parsers[fmt](KaitaiStream(BytesIO(data)))
    objects = getattr(parsed, layout.record_field)
    rows = [_values(o, layout, layout.record_type_name) for o in objects]
    return np.array(rows, dtype=layout.record.dtype), objects


def _check_fixed(parsers, fmt: str, data: bytes, ours: taiga.TaigaData) -> None:
    expected, objects = _oracle_records(parsers, fmt, data)
    assert len(expected) == len(ours.packages) > 0
    for name in expected.dtype.names:  # field by field, so a failure names the field
        np.testing.assert_array_equal(ours.packages[name], expected[name], err_msg=f"{fmt}.{name}")
    assert expected.tobytes() == np.asarray(ours.packages).tobytes()
    # the time-stamp instances of the .ksy against our one timestamp function
    if "time" in expected.dtype.names:
        kaitai_ns = [((((o.time.hours * 60 + o.time.minutes) * 60 + o.time.seconds) * 1000
                       + o.time.milliseconds) * 1000 + o.time.microseconds) * 1000 + o.time.nanoseconds
                     for o in objects]
        np.testing.assert_array_equal(decode_time_struct(ours.packages["time"]), kaitai_ns)


def test_real_t133_prefix_matches_kaitai(kaitai_parsers, taiga_fixtures, tmp_path):
    links = 6
    data = (taiga_fixtures / "t133.001").read_bytes()
    # the first links and the last one
    prefix = data[:links * 33318] + data[-33318:]
    (tmp_path / "sub.001").write_bytes(prefix)
    ours = taiga.Tunka133Reader(tmp_path / "sub.001").read()
    _check_fixed(kaitai_parsers, "tunka133", prefix, ours)
    assert list(ours.events["event_number"]) == [1, 2, 3, 4, 5, 6, 119]


def test_real_iact_prefix_matches_kaitai(kaitai_parsers, taiga_fixtures, tmp_path):
    data = (taiga_fixtures / "iact.001").read_bytes()[:500 * 156]
    (tmp_path / "sub.001").write_bytes(data)
    _check_fixed(kaitai_parsers, "taiga_iact", data, taiga.read_file(tmp_path / "sub.001"))


@pytest.mark.parametrize("fmt", ["tunka133", "tunka_rex", "tunka_grande", "taiga_iact"])
def test_generated_files_match_kaitai(kaitai_parsers, generated, fmt):
    path = generated[fmt]["path"]
    _check_fixed(kaitai_parsers, fmt, path.read_bytes(), taiga.read_file(path))


def test_generated_hiscore_matches_kaitai(kaitai_parsers, generated, tmp_path):
    # blocks of different lengths, so that the variable-size walk is exercised
    base = taiga.read_file(generated["taiga_hiscore"]["path"]).packages.copy()
    counts = np.array([[33, 5, 0, 33, 1, 2, 3, 4, 33], [1] * 9, [33] * 9, [0] * 9, [7] * 9, [2] * 9])
    base["blocks"]["sample_count"] = counts
    base["samples"][np.arange(33)[None, None, :] >= counts[..., None]] = 0
    base["package_size"] = 9 * 4 + 2 * counts.sum(axis=1) + 4
    path = tmp_path / "hiscore.001"
    taiga.write_packages(path, "taiga_hiscore", base)
    ours = taiga.TaigaHiscoreReader(path).read()
    parsed = kaitai_parsers["taiga_hiscore"].from_file(str(path))
    blocked = BlockedLayout.from_ksy(ksy.load("taiga_hiscore"))
    assert len(parsed.packages) == len(ours.packages) == 6
    for i, k in enumerate(parsed.packages):
        p = ours.packages[i]
        assert bytes(p["magic"]) == k.magic
        for name in ("package_size", "event_number", "reserved", "ip", "station_number"):
            assert p[name] == getattr(k, name), name
        assert [p["time"][w] for w in ("d0", "d1", "d2", "d3")] == [k.time.d0, k.time.d1, k.time.d2, k.time.d3]
        assert len(k.blocks) == blocked.n_blocks
        for b, kb in enumerate(k.blocks):
            assert p["blocks"][b]["offset"] == kb.offset
            assert p["blocks"][b]["sample_count"] == kb.sample_count == len(kb.samples)
            assert list(p["samples"][b][:kb.sample_count]) == kb.samples
        assert bytes(p["trailer"]) == k.trailer


@pytest.mark.parametrize("fmt, offset, value", [
    ("tunka133", 33318 + 4, 0x0A),          # data package_size 1033 -> 1034
    ("tunka_grande", 16476 + 28, 0x01),      # block data_count 1024 -> 1025
    ("taiga_iact", 156 * 3 + 2, 0x85),       # package_size 132 -> 133
])
def test_kaitai_and_bulk_decoder_reject_the_same_damage(kaitai_parsers, generated, tmp_path,
                                                        fmt, offset, value):
    import kaitaistruct

    from dlclab.errors import FormatError

    raw = bytearray(generated[fmt]["path"].read_bytes())
    raw[offset] = value
    path = tmp_path / "bad.001"
    path.write_bytes(bytes(raw))
    with pytest.raises(kaitaistruct.ValidationFailedError):
        kaitai_parsers[fmt](KaitaiStream(BytesIO(bytes(raw))))
    with pytest.raises(FormatError) as err:
        taiga.READERS[fmt](path).read()
    assert err.value.offset == offset // 2 * 2  # the u2 field holding the flipped byte
