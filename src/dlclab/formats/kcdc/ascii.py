"""KCDC ASCII export: a directory with one whitespace table per component and ``Info.txt``.

Layout (the lab's reading of the KCDC layout, DOMAIN.md section 1)::

    <dir>/Info.txt          YAML: release, data set, selection (components, quantities,
                            cuts), creation date, log10 columns, exposure (simulations)
    <dir>/general.txt       one row per event, the same row order in every table
    <dir>/array.txt
    <dir>/grande.txt
    <dir>/calorimeter.txt
    <dir>/truth.txt         simulations only: the true primary quantities

Each table starts with ``#`` comment lines (component, release, number of rows, units,
and ``# log10: ...`` naming the columns that hold log10 of the value, or ``none``),
then one line of column names, then the rows, fields separated by one space.
Floats are written in the shortest form that reads back to the same double, so a
write-read cycle is exact. ``NaN`` marks a quantity the component did not reconstruct
(GRANDE below its threshold). Per-station arrays are not part of ASCII exports (as at KCDC).

Reading and writing go through ``pyarrow.csv`` (multi-threaded C++), about ten times
faster than ``pandas.read_csv(sep=r"\\s+")``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dlclab.errors import FormatError
from dlclab.formats.kcdc.model import (
    ExportInfo, KcdcExport, cast_columns, from_file_values, to_file_values,
)
from dlclab.formats.kcdc.quantities import COMPONENTS

INFO_NAME = "Info.txt"
MAGIC = "# KCDC export"


def component_file(component: str) -> str:
    return f"{component}.txt"


class KcdcAsciiExport:
    """Write and read the ASCII layout. ``write(export, directory, log10=[...])``,
    ``read(directory)``."""

    format_name = "kcdc_ascii"

    @staticmethod
    def write(export: KcdcExport, directory: str | Path, log10: list[str] | tuple[str, ...] = ()) -> Path:
        """Write ``export`` into ``directory`` (created; existing component files replaced).
        ``log10``: qualified names (``array.E``) to store as log10."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        info = export.info.for_tables(export.tables, log10)
        n = len(export)
        for component, frame in export.tables.items():
            values = to_file_values(frame, component, info.log10)
            logged = [q.split(".", 1)[1] for q in info.log10 if q.startswith(component + ".")]
            spec = COMPONENTS.get(component, {})
            units = " ".join(f"{c}={spec[c].unit or '1'}" for c in frame.columns if c in spec)
            header = (
                f"{MAGIC} component: {component}\n"
                f"# release: {info.release}  data set: {info.data_set}\n"
                f"# rows: {n}\n"
                f"# units: {units}\n"
                f"# log10: {' '.join(logged) if logged else 'none'}\n"
                + " ".join(map(str, frame.columns)) + "\n"
            )
            table = _arrow_table(values)
            path = out / component_file(component)
            with open(path, "wb") as fh:
                fh.write(header.encode())
                pacsv.write_csv(table, fh, pacsv.WriteOptions(
                    include_header=False, delimiter=" ", quoting_style="none"))
        (out / INFO_NAME).write_text(_info_text(info), encoding="utf-8")
        return out

    @staticmethod
    def read_info(directory: str | Path) -> ExportInfo:
        path = Path(directory) / INFO_NAME
        if not path.is_file():
            raise FormatError(path, "missing Info.txt of a KCDC ASCII export", expected="Info.txt (YAML)")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise FormatError(path, f"Info.txt is not valid YAML: {exc}") from None
        if not isinstance(data, dict) or "quantities" not in data:
            raise FormatError(path, "Info.txt lacks the selection", expected="a mapping with 'quantities'")
        return ExportInfo.from_dict(data)

    @classmethod
    def read(cls, directory: str | Path, components: list[str] | None = None) -> KcdcExport:
        """Read an ASCII export; every declared component must be present with its declared
        columns and the same number of rows."""
        directory = Path(directory)
        info = cls.read_info(directory)
        tables: dict[str, pd.DataFrame] = {}
        rows: dict[str, int] = {}
        for component, columns in info.quantities.items():
            if components is not None and component not in components:
                continue
            path = directory / component_file(component)
            frame, logged = read_table(path, columns)
            tables[component] = cast_columns(from_file_values(frame, component,
                                                              [f"{component}.{c}" for c in logged]), component)
            rows[component] = len(frame)
        if len(set(rows.values())) > 1:
            raise FormatError(directory, "component tables differ in row count",
                              expected="one shared row order", found=str(rows))
        info.log10 = []
        return KcdcExport(tables=tables, info=info)


def _arrow_table(frame: pd.DataFrame):
    """DataFrame -> pyarrow table keeping NaN as NaN (``from_pandas`` would make it null,
    which the CSV writer prints as an empty field)."""
    import pyarrow as pa

    cols = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_numeric_dtype(col.dtype):
            cols[str(name)] = pa.array(col.to_numpy())
        else:
            cols[str(name)] = pa.array(col.astype(str).to_numpy(dtype=object), type=pa.string())
    return pa.table(cols)


def read_table(path: Path, columns: list[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """One component table -> (DataFrame with file values, columns stored as log10)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not path.is_file():
        raise FormatError(path, "component table missing", expected=path.name)
    comments, declared_rows, logged, names = 0, None, [], None
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("#"):
                comments += 1
                body = line[1:].strip()
                if body.startswith("rows:"):
                    declared_rows = int(body.split(":", 1)[1])
                elif body.startswith("log10:"):
                    value = body.split(":", 1)[1].split()
                    logged = [] if value == ["none"] else value
                continue
            names = line.split()
            break
    if names is None:
        raise FormatError(path, "no column header line", expected="a line of column names after the # header")
    if columns is not None:
        missing = [c for c in columns if c not in names]
        if missing:
            raise FormatError(path, f"missing column(s) {', '.join(missing)}",
                              expected=" ".join(columns), found=" ".join(names))
    types = {c: (pa.string() if c == "UUID" else pa.float64()) for c in names}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=comments + 1, column_names=names,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=" "),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[],
                                                 strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, ValueError) as exc:
        raise FormatError(path, f"malformed table: {exc}".splitlines()[0],
                          expected=f"{len(names)} space-separated fields per row") from None
    if declared_rows is not None and table.num_rows != declared_rows:
        raise FormatError(path, "row count differs from the header (truncated file?)",
                          expected=f"{declared_rows} rows", found=f"{table.num_rows}")
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    if columns is not None:
        frame = frame[columns]
    return frame, logged


def _info_text(info: ExportInfo) -> str:
    head = ("# KCDC export (dlclab). YAML. Values are linear unless listed under log10\n"
            "# (those columns hold log10 of the value). Units: docs/kcdc.md.\n")
    return head + yaml.safe_dump(_plain(info.to_dict()), sort_keys=False, width=120)


def _plain(value):
    """Numpy scalars -> Python for YAML."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def sniff_ascii(path: Path) -> bool:
    """True for a directory holding ``Info.txt`` and a component table, or for one of the
    export's files."""
    path = Path(path)
    if path.is_dir():
        return (path / INFO_NAME).is_file() and any(
            (path / component_file(c)).is_file() for c in COMPONENTS)
    if path.is_file():
        if path.name == INFO_NAME:
            return sniff_ascii(path.parent)
        try:
            with open(path, "rb") as fh:
                head = fh.read(len(MAGIC))
        except OSError:
            return False
        return head == MAGIC.encode()
    return False

