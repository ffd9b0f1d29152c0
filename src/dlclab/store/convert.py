"""Sources -> releases: what ``dlclab convert`` and ``dlclab sample`` do.

``convert_kcdc_exports``  KCDC exports (ASCII directories, ``events.h5``, ``events.root``)
                          -> a KASCADE release
``convert_taiga_raw``     raw TAIGA files (or folders of them) -> a TAIGA release
``refresh_catalogs``      the Intake catalogues of every release below a data root

Each builds its release transactionally (:func:`dlclab.store.release.build_release`):
a rerun with the same sources and metadata is a no-op, a different one is refused.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from dlclab.errors import FormatError, ParameterError
from dlclab.store.layout import DataRoot
from dlclab.store.manifest import ReleaseInfo
from dlclab.store.release import BuildResult, build_release

KCDC_FILES = ("events.h5", "events.root")
_RAW_NAME = re.compile(r"\.\d{3}$")
#: what changes the bytes a conversion writes; part of every build id
CONVERTER_VERSION = "dlclab.store/1"


def is_kcdc_export(path: Path) -> bool:
    """A KCDC export: ``events.h5``/``events.root``, or a folder holding one of them or
    ``general.txt`` (ASCII)."""
    path = Path(path)
    if path.is_file():
        return path.name in KCDC_FILES or path.suffix in (".h5", ".hdf5", ".root")
    return path.is_dir() and any((path / n).is_file() for n in (*KCDC_FILES, "general.txt"))


def kcdc_export_files(path: Path) -> list[Path]:
    """The files of one export (everything in its folder for ASCII)."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


def find_raw_files(paths: Iterable[Path]) -> list[Path]:
    """Raw TAIGA files among ``paths`` (folders are searched recursively for ``*.NNN``)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file() and _RAW_NAME.search(q.name))
        elif p.is_file():
            out.append(p)
        else:
            raise FormatError(p, "no such file or folder", expected="a raw TAIGA file or a folder of them")
    return sorted(set(out))


def _progress(items, desc: str, enabled: bool, unit: str = "source"):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit)


def convert_kcdc_exports(sources: Sequence[Path], data_root: Path, info: ReleaseInfo, *,
                         progress: bool = False) -> BuildResult:
    """KCDC exports -> KASCADE release ``info.release``.

    Truth columns are kept for ``kind="simulation"`` releases and dropped otherwise. A
    data set must come from one export only (ASCII, HDF5 and ROOT of one selection
    are the same events: convert one of them).
    """
    from dlclab.formats.kcdc import read_export
    from dlclab.store import kascade

    if info.experiment != "kascade":
        raise ParameterError(f"KCDC exports make KASCADE releases, not {info.experiment!r}")
    exports = [Path(s) for s in sources]
    for s in exports:
        if not is_kcdc_export(s):
            raise FormatError(s, "not a KCDC export", expected="events.h5, events.root or an "
                              "ASCII export folder with general.txt")
    files = [f for s in exports for f in kcdc_export_files(s)]

    def write(tmp: Path) -> dict:
        datasets: dict[str, dict] = {}
        origin: dict[str, Path] = {}
        for source in _progress(exports, f"convert {info.release}", progress):
            export = read_export(source)
            name = getattr(getattr(export, "info", None), "data_set", None) or source.stem
            if name in datasets:
                raise ParameterError(f"data set {name!r} comes from two exports ({origin[name]} and "
                                     f"{source}); convert only one of them")
            origin[name] = source
            datasets[name] = kascade.write_export(export, tmp, info.release,
                                                  keep_truth=info.kind == "simulation", dataset=name)
            datasets[name]["source"] = source.name
        kascade.ensure_stations_table(tmp, info.release)
        pq.write_table(kascade.datasets_table(datasets), tmp / "datasets.parquet")
        return datasets

    return build_release(data_root, info, files, write,
                         parameters={"converter": CONVERTER_VERSION, "sources": [s.name for s in exports]})


def convert_taiga_raw(sources: Sequence[Path], data_root: Path, info: ReleaseInfo, *,
                      date: dt.date | None = None, progress: bool = False) -> BuildResult:
    """Raw TAIGA files -> TAIGA release ``info.release`` (truth, exposure and IACT
    calibration sidecars of simulated nights are picked up from the night folders)."""
    from dlclab.store import taiga

    if info.experiment != "taiga":
        raise ParameterError(f"raw TAIGA files make TAIGA releases, not {info.experiment!r}")
    raw_files = find_raw_files(sources)
    if not raw_files:
        raise ParameterError(f"no raw TAIGA files (*.NNN) in {', '.join(map(str, sources))}")
    layout = DataRoot(data_root)
    sidecars = sorted({p.parent / n for p in raw_files
                       for n in ("truth.parquet", "exposure.json", "calibration.json")
                       if (p.parent / n).is_file()})

    def write(tmp: Path) -> dict:
        conversion = taiga.convert_raw_files(raw_files, layout.raw_taiga, date=date, progress=progress)
        datasets = taiga.write_taiga_release(conversion, tmp, info.release)
        from dlclab.store.kascade import datasets_table

        pq.write_table(datasets_table(datasets), tmp / "datasets.parquet")
        return datasets

    return build_release(data_root, info, raw_files + sidecars, write,
                         parameters={"converter": CONVERTER_VERSION,
                                     "date": date.isoformat() if date else None})


def refresh_catalogs(data_root: Path, out_dir: Path | None = None) -> list[Path]:
    """(Re)write the Intake catalogues from every committed release below ``data_root``."""
    from dlclab.catalog import write_catalogs

    layout = DataRoot(data_root)
    return write_catalogs(layout.release_dirs(), out_dir or layout.catalogs)
