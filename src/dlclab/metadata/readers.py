"""Reader kinds the mappings can name. Each turns one file into a :class:`Decoded`:
the event table (one row per event, the decoded columns) and the package count.

``taiga``   the bulk decoder generated from the ``.ksy`` (``dlclab.formats.taiga``)
``parquet`` the store's event tables (only the columns the thesaurus knows are read)
``kcdc``    KCDC exports in ASCII, HDF5 or ROOT (``dlclab.formats.kcdc``)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dlclab.errors import FormatError


@dataclass
class Decoded:
    events: pd.DataFrame
    n_packages: int | None = None
    attributes: dict = field(default_factory=dict)
    #: the reader's own object: mapping fields with ``source: data`` read its attributes
    data: object = None

    def column(self, source: str, name: str) -> pd.Series | None:
        """A decoded column: of the event table, or an array attribute of the reader's data."""
        if source == "data":
            values = getattr(self.data, name, None)
            return None if values is None else pd.Series(values)
        return self.events[name] if name in self.events.columns else None


def read_taiga(path: Path, fmt: str | None) -> Decoded:
    try:
        from dlclab.formats.taiga import read_file
    except ImportError:  # older layouts of the formats package
        from dlclab.formats.taiga.readers import read_file

    data = read_file(path, format=fmt)
    return Decoded(events=data.events, n_packages=int(data.n_packages),
                   attributes={"format": data.format}, data=data)


def read_parquet(path: Path, columns: list[str] | None) -> Decoded:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        wanted = [c for c in (columns or schema.names) if c in schema.names]
        table = pq.read_table(path, columns=wanted)
    except Exception as exc:  # pyarrow raises its own types for every kind of damage
        raise FormatError(path, f"not a readable Parquet table: {exc}",
                          expected="Parquet file") from exc
    return Decoded(events=table.to_pandas(), attributes={"columns": schema.names})


def read_kcdc(path: Path) -> Decoded:
    from dlclab.formats.kcdc import read_export

    export = read_export(path.parent if path.name == "general.txt" else path)
    tables = getattr(export, "tables", export)
    if isinstance(tables, dict):
        frames = [df.reset_index(drop=True) for df in tables.values() if isinstance(df, pd.DataFrame)]
        events = pd.concat(frames, axis=1) if frames else pd.DataFrame()
        events = events.loc[:, ~events.columns.duplicated()]
    else:
        events = tables
    return Decoded(events=events, attributes={"export": path.parent.name})
