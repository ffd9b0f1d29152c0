"""Which format a file is, from its bytes (the file name is only a hint).

TAIGA formats are recognised by the constants their ``.ksy`` declares (magic bytes,
package sizes, the Tunka-133 / Tunka-Rex link length), checked on the first record;
HDF5 and ROOT by their magic; KCDC ASCII exports (a directory or its Info.txt /
component tables) by :func:`dlclab.formats.kcdc.sniff`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dlclab.errors import FormatError

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ROOT_MAGIC = b"root"
#: TAIGA formats with fixed-size records, in the order they are tried.
FIXED_FORMATS = ("tunka133", "tunka_rex", "tunka_grande", "taiga_iact")


def _matches_fixed(format_name: str, head: bytes) -> bool:
    """True if every .ksy constant of the first record that lies in ``head`` holds."""
    from dlclab.formats.taiga import layout as ksy

    layout = ksy.load(format_name)
    size = layout.record.dtype.itemsize
    available = min(len(head), size)
    if available < 8:
        return False
    padded = np.zeros(size, dtype=np.uint8)
    padded[:available] = np.frombuffer(head[:available], np.uint8)
    problem = layout.first_bad_record(padded.view(layout.record.dtype))
    if problem is None:
        return True
    _, check, rep = problem
    # only a field reaching beyond the file's end failed: a truncated file of this format
    return check.offsets[rep] + check.width > available


def _matches_hiscore(head: bytes) -> bool:
    from dlclab.formats.taiga.variable import blocked_layout

    blocked = blocked_layout("taiga_hiscore")
    return len(head) >= blocked.head.itemsize and head.startswith(blocked.magic)


def _kcdc_sniff(path: Path) -> tuple[str | None, str | None]:
    try:
        from dlclab.formats import kcdc
    except ImportError as exc:
        return None, f"KCDC support is not available ({exc})"
    sniff = getattr(kcdc, "sniff", None)
    if sniff is None:
        return None, "dlclab.formats.kcdc has no sniff() yet"
    try:
        return sniff(path), None
    except Exception as exc:  # noqa: BLE001 - a sniffer must not crash detection
        return None, f"KCDC sniffer failed: {exc}"


def detect_format(path: str | os.PathLike) -> str:
    """The format name of ``path``: ``tunka133 tunka_rex tunka_grande taiga_iact
    taiga_hiscore kcdc_ascii kcdc_hdf5 kcdc_root``. Raises FormatError if unknown."""
    path = Path(path)
    if not path.exists():
        raise FormatError(path, "no such file or directory")
    if path.is_dir():
        found, note = _kcdc_sniff(path)
        if found:
            return found
        raise FormatError(path, "directory is not a KCDC export" + (f" ({note})" if note else ""))
    largest = 33318  # a whole Tunka-133 link decides between Tunka-133 and Tunka-Rex
    with open(path, "rb") as fh:
        head = fh.read(largest)
    if head.startswith(HDF5_MAGIC):
        return "kcdc_hdf5"
    if head.startswith(ROOT_MAGIC):
        return "kcdc_root"
    for name in FIXED_FORMATS:
        if _matches_fixed(name, head):
            return name
    if _matches_hiscore(head):
        return "taiga_hiscore"
    found, note = _kcdc_sniff(path)
    if found:
        return found
    raise FormatError(path, "unknown format: no TAIGA package start, HDF5 or ROOT magic, "
                      "or KCDC export" + (f" ({note})" if note else ""), offset=0,
                      expected="one of tunka133 tunka_rex tunka_grande taiga_iact taiga_hiscore "
                      "kcdc_ascii kcdc_hdf5 kcdc_root", found=head[:8].hex(" "))
