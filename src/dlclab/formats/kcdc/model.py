"""In-memory form of a KCDC export: component tables with one row order, optional
per-station arrays, and the description of the selection (``Info``)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlclab.formats.kcdc.quantities import COMPONENTS, STATION_ARRAYS

#: Quantities the exports write as log10 when asked to (KCDC's database convention).
LOG10_CANDIDATES = tuple(q.qualified for c in COMPONENTS.values() for q in c.values() if q.log_scale)
#: Identity columns of the general component that every export keeps, so that every
#: row names its event (run, event number, time, UUID).
IDENTITY_COLUMNS = ("Gt", "Mt", "R", "Ev", "UUID")


@dataclass
class ExportInfo:
    """What ``Info.txt`` (ASCII), the ``info`` attribute (HDF5) or the ``info`` object (ROOT)
    say about a selection."""

    release: str = "SIMULATION"
    data_set: str = "KASCADE"
    simulation: bool = False
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    cuts: list[str] = field(default_factory=list)
    #: component -> exported quantities, in column order
    quantities: dict[str, list[str]] = field(default_factory=dict)
    #: qualified names (``array.E``) stored as log10 of the value in the file
    log10: list[str] = field(default_factory=list)
    exposure: dict[str, Any] | None = None
    generator: dict[str, Any] | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def for_tables(self, tables: dict, log10) -> ExportInfo:
        """A copy describing exactly ``tables`` (the file being written) and ``log10``."""
        return ExportInfo.from_dict({**self.to_dict(), "log10": list(log10),
                                     "quantities": {c: [str(x) for x in t.columns] for c, t in tables.items()}})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExportInfo:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class KcdcExport:
    """A KCDC selection: ``tables[component]`` DataFrames sharing one row order, linear
    values in the units of :mod:`dlclab.formats.kcdc.quantities` (E in eV), and for the
    array component optionally ``stations``: an awkward array with one list of hit
    stations per row (fields ``StationId``, ``EDeposit``, ``MDeposit``, ``Arrival``)."""

    tables: dict[str, pd.DataFrame]
    info: ExportInfo = field(default_factory=ExportInfo)
    stations: Any = None

    def __post_init__(self) -> None:
        # components in the canonical order, quantities recorded in info
        self.tables = {c: self.tables[c] for c in COMPONENTS if c in self.tables}
        if not self.info.quantities:
            self.info.quantities = {c: [str(x) for x in t.columns] for c, t in self.tables.items()}

    def __len__(self) -> int:
        return len(next(iter(self.tables.values()))) if self.tables else 0

    @property
    def components(self) -> list[str]:
        return list(self.tables)

    def select(self, cuts=(), components=None, quantities=None) -> KcdcExport:
        """A DataShop-like selection: rows passing ``cuts``, the given components and
        quantities (names, optionally qualified ``grande.Ze``). The general component's
        identity columns (Gt, Mt, R, Ev, UUID) are always kept."""
        from dlclab.cuts import mask_tables, parse_cuts
        from dlclab.errors import CutError

        parsed = parse_cuts(cuts)
        keep = mask_tables(self.tables, parsed)
        wanted = list(components) if components else list(self.tables)
        unknown = [c for c in wanted if c not in self.tables]
        if unknown:
            raise CutError(f"component(s) {', '.join(unknown)} not in this export "
                           f"(components: {', '.join(self.tables)})")
        if "general" in self.tables and "general" not in wanted:
            wanted.insert(0, "general")
        columns = _select_columns({c: list(self.tables[c].columns) for c in wanted}, quantities)
        if components and "general" not in components and "general" in columns:
            columns["general"] = [q for q in columns["general"] if q in IDENTITY_COLUMNS]
        tables = {c: self.tables[c].loc[keep, cols].reset_index(drop=True) for c, cols in columns.items()}
        stations = None
        if self.stations is not None and "array" in tables:
            stations = self.stations[keep]
        info = ExportInfo.from_dict({**self.info.to_dict(),
                                     "cuts": list(self.info.cuts) + [str(c.text or c) for c in parsed],
                                     "quantities": {c: list(t.columns) for c, t in tables.items()}})
        return KcdcExport(tables=tables, info=info, stations=stations)

    def equals(self, other: KcdcExport) -> bool:
        """Same components, columns and values (NaN equal to NaN), same station arrays."""
        return not self.differences(other)

    def differences(self, other: KcdcExport) -> list[str]:
        """Human-readable list of differences (empty when equal)."""
        out = []
        if list(self.tables) != list(other.tables):
            return [f"components {list(self.tables)} != {list(other.tables)}"]
        for c, t in self.tables.items():
            o = other.tables[c]
            if list(t.columns) != list(o.columns):
                out.append(f"{c}: columns {list(t.columns)} != {list(o.columns)}")
                continue
            if len(t) != len(o):
                out.append(f"{c}: {len(t)} rows != {len(o)}")
                continue
            for col in t.columns:
                a, b = t[col], o[col]
                if col == "UUID":
                    same = (a.astype(str).to_numpy() == b.astype(str).to_numpy()).all()
                else:
                    x = a.to_numpy(dtype=np.float64, na_value=np.nan)
                    y = b.to_numpy(dtype=np.float64, na_value=np.nan)
                    same = np.array_equal(x, y, equal_nan=True)
                if not same:
                    out.append(f"{c}.{col}: values differ")
        if (self.stations is None) != (other.stations is None):
            out.append("station arrays present in only one")
        elif self.stations is not None:
            import awkward as ak

            for name in STATION_ARRAYS:
                if not ak.all(ak.ravel(self.stations[name]) == ak.ravel(other.stations[name])) or \
                        not np.array_equal(ak.num(self.stations[name]).to_numpy(),
                                           ak.num(other.stations[name]).to_numpy()):
                    out.append(f"stations.{name}: values differ")
        return out


def _select_columns(available: dict[str, list[str]], quantities) -> dict[str, list[str]]:
    from dlclab.errors import CutError

    if not quantities:
        return available
    wanted: dict[str, list[str]] = {c: [] for c in available}
    for name in quantities:
        if "." in name:
            comp, short = name.split(".", 1)
            if comp not in available or short not in available[comp]:
                raise CutError(f"quantity {name!r} is not in this export; available: "
                               + ", ".join(f"{c}.{q}" for c, qs in available.items() for q in qs))
            wanted[comp].append(short)
            continue
        homes = [c for c in ("array", "general", "calorimeter", "grande", "truth")
                 if c in available and name in available[c]]
        if not homes:
            raise CutError(f"quantity {name!r} is not in this export; available: "
                           + ", ".join(f"{c}.{q}" for c, qs in available.items() for q in qs))
        wanted[homes[0]].append(name)
    if "general" in available:
        ids = [q for q in IDENTITY_COLUMNS if q in available["general"] and q not in wanted["general"]]
        wanted["general"] = [q for q in available["general"] if q in wanted["general"] or q in ids]
    out = {}
    for c, cols in wanted.items():
        cols = [q for q in available[c] if q in cols]  # keep the canonical order
        if cols:
            out[c] = cols
    return out


def to_file_values(frame: pd.DataFrame, component: str, log10: list[str]) -> pd.DataFrame:
    """Columns listed in ``log10`` (qualified names) replaced by their decimal logarithm."""
    cols = [q.split(".", 1)[1] for q in log10 if q.startswith(component + ".")]
    if not cols:
        return frame
    out = frame.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in cols:
            if c in out:
                out[c] = np.log10(out[c].to_numpy(dtype=np.float64))
    return out


def from_file_values(frame: pd.DataFrame, component: str, log10: list[str]) -> pd.DataFrame:
    """Inverse of :func:`to_file_values`."""
    cols = [q.split(".", 1)[1] for q in log10 if q.startswith(component + ".")]
    for c in cols:
        if c in frame:
            frame[c] = np.power(10.0, frame[c].to_numpy(dtype=np.float64))
    return frame


def cast_columns(frame: pd.DataFrame, component: str) -> pd.DataFrame:
    """Columns to the dtypes of the quantity table (so all three formats read back alike)."""
    spec = COMPONENTS.get(component, {})
    for col in frame.columns:
        q = spec.get(col)
        if q is None:
            continue
        if q.dtype == "string":
            frame[col] = frame[col].astype(pd.StringDtype("pyarrow"))
        elif frame[col].dtype != np.dtype(q.dtype):
            frame[col] = frame[col].astype(q.dtype)
    return frame


def json_default(value: Any) -> Any:
    """``json.dumps`` helper for numpy scalars and NaN-free floats."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot encode {type(value).__name__}")


def export_file_target(path: str | Path, file_name: str) -> Path:
    """Where a one-file export goes: ``path`` itself, or ``path/file_name`` when ``path``
    is a folder (or has no suffix, and is created). Writers write it through
    :func:`dlclab.atomic.atomic_path`, so that a reader never sees half an export."""
    path = Path(path)
    if path.is_dir() or path.suffix == "":
        path.mkdir(parents=True, exist_ok=True)
        path = path / file_name
    return path
