"""Fast column selections from the store's Parquet tables.

:func:`select` reads only the row groups whose statistics (min/max per column, written
with every file) can hold rows passing the cuts, and only the columns needed, then
applies the cuts exactly with numpy. Because KASCADE event tables are sorted by
``energy_eV``, an energy cut skips most row groups; the remaining cuts cost one
vectorised comparison per column. For the KASCADE select-and-histogram benchmark this
is within a small factor of the same work on arrays already in memory
(docs/store.md), and it returns plain numpy arrays.

Cuts use pyarrow's filter notation, ``(column, op, value)`` with op one of
``<  <=  >  >=  ==  !=``; they are ANDed::

    from dlclab.store.query import select
    cols = select("data/releases/kascade/OCEANUS/events", ["energy_eV"],
                  [("zenith_deg", "<", 18), ("energy_eV", ">=", 1e15)])
    cols["energy_eV"]                      # numpy array of the selected events
"""
from __future__ import annotations

import operator
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dlclab.errors import CutError

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def _may_pass(op: str, value: float, lo, hi) -> bool:
    """Can a row group with column range [lo, hi] hold a row with ``column op value``?"""
    if lo is None or hi is None:
        return True
    if op == "<":
        return lo < value
    if op == "<=":
        return lo <= value
    if op == ">":
        return hi > value
    if op == ">=":
        return hi >= value
    if op == "==":
        return lo <= value <= hi
    return not (lo == hi == value)  # "!="


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files of a table: the file itself, or every ``*.parquet`` below a folder."""
    path = Path(path)
    return [path] if path.is_file() else sorted(path.rglob("*.parquet"))


def row_groups_to_read(pf, cuts: Sequence[tuple[str, str, float]]) -> list[int]:
    """Row groups of a ``pyarrow.parquet.ParquetFile`` whose min/max statistics do not
    exclude every row under ``cuts`` (groups without statistics are always read)."""
    names = pf.schema_arrow.names
    meta = pf.metadata
    keep = []
    for rg in range(meta.num_row_groups):
        group = meta.row_group(rg)
        for column, op, value in cuts:
            stats = group.column(names.index(column)).statistics
            if stats is not None and stats.has_min_max and not _may_pass(op, value, stats.min, stats.max):
                break
        else:
            keep.append(rg)
    return keep


def select(path: str | Path, columns: Sequence[str],
           cuts: Sequence[tuple[str, str, float]] = ()) -> dict[str, np.ndarray]:
    """``{column: numpy array}`` of the rows passing every cut (see the module docstring)."""
    import pyarrow.parquet as pq

    for cut in cuts:
        if len(cut) != 3 or cut[1] not in _OPS:
            raise CutError(f"cut {cut!r}: expected (column, op, value) with op one of {', '.join(_OPS)}")
    cut_columns = [c for c, _, _ in cuts]
    needed = list(dict.fromkeys([*columns, *cut_columns]))
    parts: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    for file in parquet_files(path):
        pf = pq.ParquetFile(file)
        names = pf.schema_arrow.names
        missing = [c for c in needed if c not in names]
        if missing:
            raise CutError(f"{file}: no column(s) {', '.join(missing)}; columns: {', '.join(names)}")
        keep = row_groups_to_read(pf, cuts)
        if not keep:
            continue
        table = pf.read_row_groups(keep, columns=needed, use_threads=True)
        arrays = {c: table.column(c).to_numpy() for c in needed}
        mask = None
        for column, op, value in cuts:
            m = _OPS[op](arrays[column], value)
            mask = m if mask is None else (mask & m)
        for c in columns:
            parts[c].append(arrays[c] if mask is None else arrays[c][mask])
    return {c: (np.concatenate(v) if v else np.empty(0)) for c, v in parts.items()}
