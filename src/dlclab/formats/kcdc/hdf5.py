"""KCDC HDF5 export: one ``events.h5``.

Layout (group and dataset names mirror the component and quantity names; DOMAIN.md
leaves them unverified, so this module is the one place to change them)::

    /                       attrs: kcdc_export = "dlclab 1", info = JSON of the selection
    /<component>/<Quantity> one 1-D dataset per quantity, all of one length (the shared
                            row order); attrs: unit, log10 (bool)
    /general/UUID           fixed-length ASCII (S36)
    /array/StationId, /array/EDeposit, /array/MDeposit, /array/Arrival
                            per-station arrays: variable-length (h5py vlen) datasets,
                            one entry per event; /array/NStations = their lengths

Values are linear unless a dataset's ``log10`` attribute is true.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from dlclab.atomic import atomic_path
from dlclab.errors import FormatError
from dlclab.formats.kcdc.model import (
    ExportInfo, KcdcExport, cast_columns, export_file_target, from_file_values, json_default,
    to_file_values,
)
from dlclab.formats.kcdc.quantities import COMPONENTS, STATION_ARRAYS

FILE_NAME = "events.h5"
MAGIC = b"\x89HDF\r\n\x1a\n"
FORMAT_TAG = "dlclab 1"


class KcdcHdf5Export:
    """Write and read ``events.h5``."""

    format_name = "kcdc_hdf5"

    @staticmethod
    def write(export: KcdcExport, path: str | Path, log10: list[str] | tuple[str, ...] = ()) -> Path:
        """Write ``export`` to ``path`` (a file, or a directory that gets ``events.h5``)."""
        import h5py

        path = export_file_target(path, FILE_NAME)
        info = export.info.for_tables(export.tables, log10)
        with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
            h5.attrs["kcdc_export"] = FORMAT_TAG
            h5.attrs["info"] = json.dumps(info.to_dict(), default=json_default)
            for component, frame in export.tables.items():
                group = h5.create_group(component)
                values = to_file_values(frame, component, info.log10)
                spec = COMPONENTS.get(component, {})
                for col in frame.columns:
                    if col == "UUID":
                        data = frame[col].astype(str).to_numpy(dtype="S36")
                    else:
                        data = values[col].to_numpy()
                    ds = group.create_dataset(col, data=data, chunks=True if len(data) else None,
                                              compression=None)
                    ds.attrs["unit"] = spec[col].unit if col in spec else ""
                    ds.attrs["log10"] = f"{component}.{col}" in info.log10
            if export.stations is not None and "array" in export.tables:
                import awkward as ak

                group = h5["array"]
                counts = ak.num(export.stations).to_numpy().astype(np.int32)
                group.create_dataset("NStations", data=counts)
                offsets = np.concatenate([[0], np.cumsum(counts)])
                for name, (unit, _lo, _hi, dtype) in STATION_ARRAYS.items():
                    flat = ak.to_numpy(ak.ravel(export.stations[name])).astype(dtype)
                    data = np.empty(len(counts), dtype=object)
                    data[:] = [flat[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
                    ds = group.create_dataset(name, shape=(len(counts),), dtype=h5py.vlen_dtype(np.dtype(dtype)))
                    if len(counts):
                        ds[:] = data
                    ds.attrs["unit"] = unit
                    ds.attrs["per_station"] = True
        return path

    @staticmethod
    def read(path: str | Path, components: list[str] | None = None) -> KcdcExport:
        import h5py

        path = Path(path)
        if path.is_dir():
            path = path / FILE_NAME
        if not path.is_file():
            raise FormatError(path, "no such HDF5 export", expected=FILE_NAME)
        try:
            h5 = h5py.File(path, "r")
        except OSError as exc:
            raise FormatError(path, f"not a readable HDF5 file ({exc})", expected="an HDF5 file") from None
        try:
            with h5:
                if h5.attrs.get("kcdc_export") is None or "info" not in h5.attrs:
                    raise FormatError(path, "HDF5 file is not a KCDC export",
                                      expected="root attributes 'kcdc_export' and 'info'")
                info = ExportInfo.from_dict(json.loads(h5.attrs["info"]))
                tables: dict[str, pd.DataFrame] = {}
                rows: dict[str, int] = {}
                stations = None
                for component, columns in info.quantities.items():
                    if components is not None and component not in components:
                        continue
                    if component not in h5:
                        raise FormatError(path, f"group /{component} missing", expected=f"/{component}")
                    group = h5[component]
                    data = {}
                    logged = []
                    for col in columns:
                        if col not in group:
                            raise FormatError(path, f"dataset /{component}/{col} missing",
                                              expected=" ".join(columns))
                        ds = group[col]
                        raw = ds[()]
                        data[col] = (pd.array(np.char.decode(raw, "ascii"), dtype=pd.StringDtype("pyarrow"))
                                     if col == "UUID" else raw)
                        if bool(ds.attrs.get("log10", False)):
                            logged.append(f"{component}.{col}")
                    lengths = {c: len(v) for c, v in data.items()}
                    if len(set(lengths.values())) > 1:
                        raise FormatError(path, f"datasets of /{component} differ in length",
                                          expected="one length per component", found=str(lengths))
                    frame = pd.DataFrame(data, columns=columns)
                    tables[component] = cast_columns(from_file_values(frame, component, logged), component)
                    rows[component] = len(frame)
                    if component == "array" and "NStations" in group:
                        stations = _read_stations(path, group, rows[component])
        except FormatError:
            raise
        except (OSError, KeyError, ValueError) as exc:
            raise FormatError(path, f"damaged HDF5 export ({exc})", expected="a complete events.h5") from None
        if len(set(rows.values())) > 1:
            raise FormatError(path, "component groups differ in row count",
                              expected="one shared row order", found=str(rows))
        info.log10 = []
        return KcdcExport(tables=tables, info=info, stations=stations)


def _read_stations(path: Path, group, n: int):
    import awkward as ak

    counts = group["NStations"][()]
    if len(counts) != n:
        raise FormatError(path, "/array/NStations length differs from the array rows",
                          expected=str(n), found=str(len(counts)))
    fields = {}
    for name, (_unit, _lo, _hi, dtype) in STATION_ARRAYS.items():
        if name not in group:
            raise FormatError(path, f"per-station dataset /array/{name} missing", expected=name)
        rows = group[name][()]
        flat = np.concatenate(rows).astype(dtype) if len(rows) else np.zeros(0, dtype)
        if len(flat) != int(counts.sum()):
            raise FormatError(path, f"/array/{name} holds {len(flat)} stations, NStations says "
                              f"{int(counts.sum())}", expected="consistent per-station arrays")
        fields[name] = flat
    return ak.unflatten(ak.zip(fields), counts)


def sniff_hdf5(path: Path) -> bool:
    """HDF5 signature at byte 0 and the export's root attribute."""
    path = Path(path)
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        if fh.read(8) != MAGIC:
            return False
    try:
        import h5py

        with h5py.File(path, "r") as h5:
            return h5.attrs.get("kcdc_export") is not None
    except OSError:
        return True  # an HDF5 signature but damaged: still ours to report on
