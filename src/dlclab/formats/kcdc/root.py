"""KCDC ROOT export: one ``events.root`` written and read with uproot.

Layout (names mirror the components; the one place to change them)::

    info                 TObjString: JSON of the selection (release, cuts, exposure ...)
    general, array, grande, calorimeter, truth
                         one TTree per component, one branch per quantity, all trees
                         with the same number of entries (the shared row order)
    general/UUID         the UUID as 16 bytes (branch ``UUID[16]/b``): uproot cannot write
                         string branches; the reader turns it back into the canonical text
    array/NStations      per-station counter; StationId, EDeposit, MDeposit, Arrival are
                         jagged branches counted by it

Units are those of docs/kcdc.md; ``info`` lists the branches that hold log10 of the value.
Trees are filled in baskets of 1,000,000 entries.
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
from dlclab.formats.kcdc.quantities import STATION_ARRAYS

FILE_NAME = "events.root"
MAGIC = b"root"
BASKET = 1_000_000
INFO_KEY = "info"


_HEX_VALUE = np.zeros(256, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16, dtype=np.uint8)
_DIGIT_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _uuid_bytes(series: pd.Series) -> np.ndarray:
    """Canonical UUID text -> (n, 16) uint8, vectorised."""
    text = series.astype(str).to_numpy(dtype="S36")
    ascii_rows = np.frombuffer(text.tobytes(), dtype=np.uint8).reshape(-1, 36)
    nibbles = _HEX_VALUE[ascii_rows[:, _DIGIT_POS]]
    return (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]


def _uuid_text(raw: np.ndarray) -> pd.array:
    """(n, 16) bytes -> canonical UUID text, vectorised."""
    from dlclab.identity import _HEX, _HEX_POS

    raw = np.asarray(raw, dtype=np.uint8).reshape(-1, 16)
    out = np.full((raw.shape[0], 36), ord("-"), dtype=np.uint8)
    digits = np.empty((raw.shape[0], 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    out[:, _HEX_POS] = digits
    from dlclab.identity import uuid_ascii_to_arrow

    return pd.array(uuid_ascii_to_arrow(out), dtype=pd.StringDtype("pyarrow"))


class KcdcRootExport:
    """Write and read ``events.root``."""

    format_name = "kcdc_root"

    @staticmethod
    def write(export: KcdcExport, path: str | Path, log10: list[str] | tuple[str, ...] = ()) -> Path:
        import uproot

        path = export_file_target(path, FILE_NAME)
        info = export.info.for_tables(export.tables, log10)
        n = len(export)
        with atomic_path(path) as tmp, uproot.recreate(tmp) as f:
            f[INFO_KEY] = json.dumps(info.to_dict(), default=json_default)
            for component, frame in export.tables.items():
                values = to_file_values(frame, component, info.log10)
                columns: dict[str, np.ndarray] = {}
                for col in frame.columns:
                    columns[col] = _uuid_bytes(frame[col]) if col == "UUID" else values[col].to_numpy()
                stations = component == "array" and export.stations is not None
                branch_types = {c: (np.dtype((a.dtype, a.shape[1:])) if a.ndim > 1 else a.dtype)
                                for c, a in columns.items()}
                if stations:
                    import awkward as ak

                    branch_types["Station"] = ak.zip(
                        {k: export.stations[k] for k in STATION_ARRAYS}).type.content
                tree = f.mktree(component, branch_types, title=component,
                                counter_name=lambda counted: "NStations",
                                field_name=lambda outer, inner: inner)
                for lo in range(0, max(n, 1), BASKET):
                    hi = min(n, lo + BASKET)
                    if hi <= lo:
                        break
                    chunk = {c: a[lo:hi] for c, a in columns.items()}
                    if stations:
                        chunk["Station"] = ak.zip({k: export.stations[k][lo:hi] for k in STATION_ARRAYS})
                    tree.extend(chunk)
        return path

    @staticmethod
    def read(path: str | Path, components: list[str] | None = None) -> KcdcExport:
        import uproot

        path = Path(path)
        if path.is_dir():
            path = path / FILE_NAME
        if not path.is_file():
            raise FormatError(path, "no such ROOT export", expected=FILE_NAME)
        try:
            f = uproot.open(path)
        except Exception as exc:  # uproot raises many types for damaged files
            raise FormatError(path, f"not a readable ROOT file ({type(exc).__name__}: {exc})".splitlines()[0],
                              expected="a complete events.root") from None
        try:
            with f:
                if INFO_KEY not in f:
                    raise FormatError(path, "ROOT file is not a KCDC export", expected="an 'info' TObjString")
                info = ExportInfo.from_dict(json.loads(str(f[INFO_KEY])))
                tables: dict[str, pd.DataFrame] = {}
                rows: dict[str, int] = {}
                stations = None
                for component, columns in info.quantities.items():
                    if components is not None and component not in components:
                        continue
                    if component not in f:
                        raise FormatError(path, f"tree {component!r} missing", expected=component)
                    tree = f[component]
                    missing = [c for c in columns if c not in tree.keys()]
                    if missing:
                        raise FormatError(path, f"tree {component!r} lacks branch(es) {', '.join(missing)}",
                                          expected=" ".join(columns))
                    arrays = tree.arrays(columns, library="np")
                    data = {c: (_uuid_text(arrays[c]) if c == "UUID" else arrays[c]) for c in columns}
                    frame = pd.DataFrame(data, columns=columns)
                    logged = [f"{component}.{q.split('.', 1)[1]}" for q in info.log10
                              if q.startswith(component + ".")]
                    tables[component] = cast_columns(from_file_values(frame, component, logged), component)
                    rows[component] = len(frame)
                    if component == "array" and "NStations" in tree.keys():
                        stations = tree.arrays(list(STATION_ARRAYS), library="ak")
                        import awkward as ak

                        stations = ak.zip({k: stations[k] for k in STATION_ARRAYS})
        except FormatError:
            raise
        except Exception as exc:
            raise FormatError(path, f"damaged ROOT export ({type(exc).__name__}: {exc})".splitlines()[0],
                              expected="a complete events.root") from None
        if len(set(rows.values())) > 1:
            raise FormatError(path, "component trees differ in entries",
                              expected="one shared row order", found=str(rows))
        info.log10 = []
        return KcdcExport(tables=tables, info=info, stations=stations)


def sniff_root(path: Path) -> bool:
    """ROOT signature ``root`` at byte 0 and an ``info`` key of ours."""
    path = Path(path)
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        if fh.read(4) != MAGIC:
            return False
    try:
        import uproot

        with uproot.open(path) as f:
            return INFO_KEY in f and "general" in f
    except Exception:
        return True  # ROOT signature but damaged: ours to report on
