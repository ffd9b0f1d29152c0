"""Damaged files: truncated, wrong magic, package size against the layout, garbage
appended. Each raises FormatError naming file, byte offset, package and expectation;
allow_truncated returns the valid prefix with a warning."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from dlclab.errors import FormatError
from dlclab.formats import taiga


def _copy(src, tmp_path, name="bad.001"):
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    dst.chmod(0o644)
    return dst


def _flip(path, offset, value):
    raw = bytearray(path.read_bytes())
    raw[offset] = value
    path.write_bytes(bytes(raw))


def test_truncated_t133(taiga_fixtures, tmp_path):
    path = tmp_path / "t133.001"
    path.write_bytes((taiga_fixtures / "t133.001").read_bytes()[:10 * 33318 + 5 * 1040 + 100])
    with pytest.raises(FormatError) as err:
        taiga.Tunka133Reader(path).read()
    e = err.value
    assert e.path == str(path) and e.offset == 10 * 33318 and e.package == 10 * 33 + 5
    assert "truncated" in str(e) and "33318 bytes" in str(e)
    with pytest.warns(UserWarning, match="truncated"):
        data = taiga.Tunka133Reader(path).read(allow_truncated=True)
    assert data.truncated and len(data.events) == 10
    assert list(data.events["event_number"]) == list(range(1, 11))


def test_wrong_magic_t133(taiga_fixtures, tmp_path):
    path = _copy(taiga_fixtures / "t133.001", tmp_path)
    offset = 3 * 33318 + 7 * 1040 + 1  # second magic byte of package 7 of link 3
    _flip(path, offset, 0x00)
    with pytest.raises(FormatError) as err:
        taiga.read_file(path, "tunka133")
    e = err.value
    assert e.offset == offset - 1 and e.package == 3 * 33 + 7
    assert e.expected == "ff ff a0" and e.found == "ff 00 a0"
    assert "wrong magic" in str(e) and str(path) in str(e)
    with pytest.warns(UserWarning):
        assert len(taiga.read_file(path, "tunka133", allow_truncated=True).packages) == 3


def test_package_size_disagrees_t133(taiga_fixtures, tmp_path):
    path = _copy(taiga_fixtures / "t133.001", tmp_path)
    info_size = 5 * 33318 + 32 * 1040 + 4
    _flip(path, info_size, 18)
    with pytest.raises(FormatError) as err:
        taiga.read_file(path)  # detection looks at the first link only
    e = err.value
    assert e.offset == info_size and e.package == 5 * 33 + 32
    assert e.expected == "17" and e.found == "18"
    assert "info.package_size disagrees with the layout" in str(e)


def test_garbage_appended_iact(taiga_fixtures, tmp_path):
    path = _copy(taiga_fixtures / "iact.001", tmp_path)
    with open(path, "ab") as fh:
        fh.write(b"garbage!")
    with pytest.raises(FormatError) as err:
        taiga.read_file(path)
    e = err.value
    assert e.offset == 467220 and e.package == 2995 and "garbage" in str(e)
    with pytest.warns(UserWarning, match="garbage"):
        data = taiga.read_file(path, allow_truncated=True)
    assert len(data.packages) == 2995


def test_garbage_of_a_whole_package_length_iact(taiga_fixtures, tmp_path):
    path = _copy(taiga_fixtures / "iact.001", tmp_path)
    with open(path, "ab") as fh:
        fh.write(bytes(range(156)))
    with pytest.raises(FormatError) as err:
        taiga.read_file(path, "taiga_iact")
    assert err.value.offset == 467220 and err.value.package == 2995
    assert err.value.expected == "d8 0b"


def test_truncated_and_bad_trailer_iact(taiga_fixtures, tmp_path):
    path = tmp_path / "iact.001"
    path.write_bytes((taiga_fixtures / "iact.001").read_bytes()[:100 * 156 + 60])
    with pytest.raises(FormatError, match="truncated") as err:
        taiga.read_file(path)
    assert err.value.package == 100 and err.value.offset == 100 * 156
    path = _copy(taiga_fixtures / "iact.001", tmp_path, "trailer.001")
    _flip(path, 41 * 156 + 153, 0x7F)
    with pytest.raises(FormatError) as err:
        taiga.read_file(path)
    assert err.value.package == 41 and err.value.offset == 41 * 156 + 152
    assert err.value.expected == "ff ff ff ff"


def test_grande_package_size(generated, tmp_path):
    path = _copy(generated["tunka_grande"]["path"], tmp_path)
    _flip(path, 2 * 16476 + 2, 0x45)  # package_size 16452 = 0x4044 -> 0x4045
    with pytest.raises(FormatError) as err:
        taiga.TunkaGrandeReader(path).read()
    assert err.value.package == 2 and err.value.offset == 2 * 16476 + 2
    assert err.value.expected == "16452" and err.value.found == "16453"


def test_grande_data_type_out_of_range(generated, tmp_path):
    path = _copy(generated["tunka_grande"]["path"], tmp_path)
    _flip(path, 16476 + 1, 0x00)
    with pytest.raises(FormatError, match="data_type") as err:
        taiga.TunkaGrandeReader(path).read()
    assert err.value.package == 1 and err.value.expected == "3032..3035"


def test_hiscore_truncated_garbage_and_size(generated, tmp_path):
    src = generated["taiga_hiscore"]["path"]
    size = 24 + 9 * 70 + 4
    raw = src.read_bytes()
    path = tmp_path / "trunc.001"
    path.write_bytes(raw[:4 * size + 30])
    with pytest.raises(FormatError, match="truncated") as err:
        taiga.TaigaHiscoreReader(path).read()
    assert err.value.package == 4 and err.value.offset == 4 * size
    with pytest.warns(UserWarning):
        assert len(taiga.TaigaHiscoreReader(path).read(allow_truncated=True).packages) == 4

    path = tmp_path / "garbage.001"
    path.write_bytes(raw + b"\x00" * 10)
    with pytest.raises(FormatError, match="garbage") as err:
        taiga.TaigaHiscoreReader(path).read()
    assert err.value.package == 6 and err.value.offset == 6 * size

    # a block count that disagrees with package_size
    path = tmp_path / "size.001"
    bad = bytearray(raw)
    bad[2 * size + 24 + 2] = 32  # sample_count of block 0 of package 2: 33 -> 32
    path.write_bytes(bytes(bad))
    with pytest.raises(FormatError, match="package_size disagrees") as err:
        taiga.TaigaHiscoreReader(path).read()
    assert err.value.package == 2 and err.value.offset == 2 * size


def test_write_packages_refuses_broken_packages(taiga_fixtures, tmp_path):
    data = taiga.read_file(taiga_fixtures / "iact.001")
    packages = np.array(data.packages[:5])
    packages["package_size"][3] = 131
    with pytest.raises(FormatError) as err:
        taiga.write_packages(tmp_path / "out.001", "taiga_iact", packages)
    assert err.value.package == 3 and not (tmp_path / "out.001").exists()


def test_chunked_reading_raises_at_the_bad_chunk(taiga_fixtures, tmp_path):
    path = _copy(taiga_fixtures / "t133.001", tmp_path)
    _flip(path, 70 * 33318, 0x00)
    chunks = taiga.Tunka133Reader(path).iter_chunks(50)
    assert len(next(chunks).packages) == 50
    with pytest.raises(FormatError) as err:
        next(chunks)
    assert err.value.package == 70 * 33 and err.value.offset == 70 * 33318


def test_empty_file_is_not_a_taiga_file(tmp_path):
    path = tmp_path / "empty.001"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match="unknown format"):
        taiga.read_file(path)
    assert len(taiga.Tunka133Reader(path).read().packages) == 0


def test_truncated_inside_a_magic_is_truncation_not_garbage(taiga_fixtures, tmp_path):
    path = tmp_path / "t133.001"
    path.write_bytes((taiga_fixtures / "t133.001").read_bytes()[:33318 + 1040 + 1])
    with pytest.raises(FormatError, match="truncated") as err:
        taiga.read_file(path)
    assert err.value.package == 33 + 1


def test_empty_hiscore_reader(tmp_path):
    path = tmp_path / "empty.001"
    path.write_bytes(b"")
    data = taiga.TaigaHiscoreReader(path).read()
    assert len(data.packages) == 0 and len(data.events) == 0
