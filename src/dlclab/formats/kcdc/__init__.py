"""KCDC exports (ASCII directory, ``events.h5``, ``events.root``): read, write, detect,
summarise, and DataShop-like selections. See docs/kcdc.md for the layouts.

Public API::

    read_export(path) -> KcdcExport          detects the format
    write_export(export, out, format, log10=()) -> Path
    export_selection(tables, cuts, components, quantities, format, out, ...) -> Path
    sniff(path) -> "kcdc_ascii" | "kcdc_hdf5" | "kcdc_root" | None
    summarize(path) -> dict                   for ``dlclab inspect``

Heavy libraries (h5py, uproot, awkward, pyarrow) are imported inside the functions.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dlclab.errors import FormatError
from dlclab.formats.kcdc.model import ExportInfo, KcdcExport

__all__ = [
    "ExportInfo", "KcdcExport", "KcdcAsciiExport", "KcdcHdf5Export", "KcdcRootExport",
    "FORMATS", "read_export", "write_export", "export_selection", "sniff", "summarize",
]

#: user-facing format name -> (inspect name, sub-directory suffix of KCDC data sets)
FORMATS = {"ascii": ("kcdc_ascii", "ASCII"), "hdf5": ("kcdc_hdf5", "HDF5"), "root": ("kcdc_root", "ROOT")}


def __getattr__(name: str):
    if name == "KcdcAsciiExport":
        from dlclab.formats.kcdc.ascii import KcdcAsciiExport
        return KcdcAsciiExport
    if name == "KcdcHdf5Export":
        from dlclab.formats.kcdc.hdf5 import KcdcHdf5Export
        return KcdcHdf5Export
    if name == "KcdcRootExport":
        from dlclab.formats.kcdc.root import KcdcRootExport
        return KcdcRootExport
    raise AttributeError(name)


def _handler(kind: str):
    from dlclab.formats.kcdc.ascii import KcdcAsciiExport
    from dlclab.formats.kcdc.hdf5 import KcdcHdf5Export
    from dlclab.formats.kcdc.root import KcdcRootExport

    return {"kcdc_ascii": KcdcAsciiExport, "kcdc_hdf5": KcdcHdf5Export, "kcdc_root": KcdcRootExport}[kind]


def sniff(path: str | Path) -> str | None:
    """Which KCDC export ``path`` is, from its contents (signatures and our markers):
    ``kcdc_ascii`` (a directory with Info.txt, or one of its files), ``kcdc_hdf5``,
    ``kcdc_root``; ``None`` if it is none of them. A directory holding exactly one
    ``events.h5`` or ``events.root`` (KCDC's ``_HDF5``/``_ROOT`` folders) counts as that file."""
    from dlclab.formats.kcdc.ascii import sniff_ascii
    from dlclab.formats.kcdc.hdf5 import FILE_NAME as H5, sniff_hdf5
    from dlclab.formats.kcdc.root import FILE_NAME as ROOT, sniff_root

    path = Path(path)
    if sniff_ascii(path):
        return "kcdc_ascii"
    target = path
    if path.is_dir():
        for name in (H5, ROOT):
            if (path / name).is_file():
                target = path / name
                break
        else:
            return None
    if sniff_hdf5(target):
        return "kcdc_hdf5"
    if sniff_root(target):
        return "kcdc_root"
    return None


def _resolve(path: Path, kind: str) -> Path:
    from dlclab.formats.kcdc.hdf5 import FILE_NAME as H5
    from dlclab.formats.kcdc.root import FILE_NAME as ROOT

    if kind == "kcdc_ascii":
        return path if path.is_dir() else path.parent
    if path.is_dir():
        return path / (H5 if kind == "kcdc_hdf5" else ROOT)
    return path


def read_export(path: str | Path, components: list[str] | None = None) -> KcdcExport:
    """Read any of the three exports (format detected from the contents)."""
    path = Path(path)
    if not path.exists():
        raise FormatError(path, "no such file or directory", expected="a KCDC export")
    kind = sniff(path)
    if kind is None:
        raise FormatError(path, "not a KCDC export",
                          expected="a directory with Info.txt, an events.h5 or an events.root")
    return _handler(kind).read(_resolve(path, kind), components=components)


def write_export(export: KcdcExport, out: str | Path, format: str,
                 log10: Iterable[str] = ()) -> Path:
    """Write ``export`` in ``format`` (``ascii``, ``hdf5``, ``root``) into the directory
    ``out``; returns the directory (ASCII) or the file written."""
    fmt = format.lower()
    if fmt not in FORMATS:
        raise FormatError(out, f"unknown export format {format!r}", expected=", ".join(FORMATS))
    return _handler(FORMATS[fmt][0]).write(export, Path(out), log10=list(log10))


def export_selection(tables: Mapping[str, Any] | KcdcExport, cuts: Iterable = (),
                     components: Iterable[str] | None = None, quantities: Iterable[str] | None = None,
                     format: str = "ascii", out: str | Path = ".", *, info: ExportInfo | None = None,
                     stations: Any = None, log10: Iterable[str] = ()) -> Path:
    """The DataShop: select rows by ``cuts`` (strings like ``"E>1e15"`` or parsed
    :class:`dlclab.cuts.Cut`), keep ``components`` and ``quantities``, write ``format``
    into ``out``. ``tables`` is a :class:`KcdcExport` or a mapping component -> DataFrame
    with a shared row order (the store passes its tables this way)."""
    if isinstance(tables, KcdcExport):
        export = tables
    else:
        export = KcdcExport(tables=dict(tables), info=info or ExportInfo(), stations=stations)
    selected = export.select(cuts=list(cuts), components=list(components) if components else None,
                             quantities=list(quantities) if quantities else None)
    return write_export(selected, out, format, log10=log10)


def _sha256_of(path: Path) -> tuple[int, str]:
    """(bytes, sha256) of a file, or of a directory's regular files in sorted name order
    (the hash runs over their contents concatenated, names not included)."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    size = 0
    for f in files:
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    return size, digest.hexdigest()


def summarize(path: str | Path) -> dict[str, Any]:
    """What ``dlclab inspect`` prints for a KCDC export.

    ``first_time``/``last_time`` are ``HH:MM:SS.mmm`` (UTC) of Gt + Mt of the first and
    last row (rows are in time order); ``first_datetime``/``last_datetime`` give the full
    ISO time. ``events`` counts rows; ``first_event``/``last_event`` are the ``Ev`` of the
    first and last row (``runs`` gives their run numbers). ``sha256`` is the file's, or for
    an ASCII directory the hash of its files' contents in sorted name order.
    """
    from dlclab.units import NS_PER_S, format_ns_of_day

    path = Path(path)
    kind = sniff(path)
    result: dict[str, Any] = {
        "format": kind, "bytes": None, "sha256": None, "packages": None, "events": None,
        "first_event": None, "last_event": None, "first_time": None, "last_time": None,
        "clusters": [], "optical_line_length": None, "errors": [],
    }
    if kind is None:
        result["errors"].append(f"{path}: not a KCDC export")
        return result
    target = _resolve(path, kind)
    result["bytes"], result["sha256"] = _sha256_of(target)
    try:
        export = _handler(kind).read(target, components=["general"])
    except FormatError as exc:
        result["errors"].append(str(exc))
        return result
    general = export.tables.get("general")
    result["events"] = len(export)
    result["release"] = export.info.release
    result["data_set"] = export.info.data_set
    result["simulation"] = export.info.simulation
    result["components"] = list(export.info.quantities)
    result["cuts"] = list(export.info.cuts)
    if general is not None and len(general) and {"Gt", "Mt", "Ev", "R"} <= set(general.columns):
        import pandas as pd

        first, last = general.iloc[0], general.iloc[-1]
        result["first_event"], result["last_event"] = int(first["Ev"]), int(last["Ev"])
        result["runs"] = [int(first["R"]), int(last["R"])]
        for key, row in (("first", first), ("last", last)):
            ns = (int(row["Gt"]) % 86400) * NS_PER_S + int(row["Mt"])
            result[f"{key}_time"] = format_ns_of_day(ns)
            result[f"{key}_datetime"] = pd.Timestamp(int(row["Gt"]) * NS_PER_S + int(row["Mt"]),
                                                     unit="ns", tz="UTC").isoformat()
    return result
