"""Which format a file is, from its bytes (the file name is only a hint).

TAIGA formats are recognised by the constants their ``.ksy`` declares (magic bytes,
package sizes, the Tunka-133 / Tunka-Rex link length), checked on the first record;
HDF5 and ROOT by their magic; KCDC ASCII exports (a directory or its Info.txt /
component tables) by :func:`dlclab.formats.kcdc.sniff`.
"""
from __future__ import annotations

import os
from pathlib import Path

from dlclab.errors import FormatError

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ROOT_MAGIC = b"root"


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


def known_formats() -> list[str]:
    """Every format detection knows: the TAIGA registry's, then the KCDC exports'."""
    from dlclab.formats.kcdc import FORMATS as KCDC
    from dlclab.formats.taiga import READERS

    return [*READERS, *(name for name, _ in KCDC.values())]


def detect_format(path: str | os.PathLike) -> str:
    """The format name of ``path``: one of :func:`known_formats` (the TAIGA formats
    ``tunka133 tunka_rex tunka_grande taiga_iact taiga_hiscore``, then ``kcdc_ascii
    kcdc_hdf5 kcdc_root``). Raises FormatError if unknown."""
    path = Path(path)
    if not path.exists():
        raise FormatError(path, "no such file or directory")
    if path.is_dir():
        found, note = _kcdc_sniff(path)
        if found:
            return found
        raise FormatError(path, "directory is not a KCDC export" + (f" ({note})" if note else ""))
    from dlclab.formats.taiga import detect_taiga_format, detection_head_bytes

    with open(path, "rb") as fh:
        head = fh.read(detection_head_bytes())
    if head.startswith(HDF5_MAGIC):
        return "kcdc_hdf5"
    if head.startswith(ROOT_MAGIC):
        return "kcdc_root"
    taiga = detect_taiga_format(head)
    if taiga:
        return taiga
    found, note = _kcdc_sniff(path)
    if found:
        return found
    raise FormatError(path, "unknown format: no TAIGA package start, HDF5 or ROOT magic, "
                      "or KCDC export" + (f" ({note})" if note else ""), offset=0,
                      expected="one of " + " ".join(known_formats()), found=head[:8].hex(" "))
