"""KCDC exports -> the store's KASCADE tables.

One KCDC export (a data set: ASCII, HDF5 or ROOT, read by
:func:`dlclab.formats.kcdc.read_export`) becomes one Parquet file in ``events`` (and,
if it has per-station arrays, one in ``stations``), named after the data set.

Choices, and why:

* ``uuid`` is recomputed from (``KASCADE``, R, Ev) with :mod:`dlclab.identity`, so an
  event has the same UUID in every release whatever the export carried.
* ``time`` = Gt s + Mt ns (UTC); ``gps_time_s`` and ``mt_ns`` keep KCDC's two parts.
* Rows are sorted by ``energy_eV`` and written in row groups of :data:`ROW_GROUP`
  rows: the row-group statistics then let an energy cut skip most of the file
  (filter push-down); a zenith cut is cheap on the columns that remain.
* Truth columns (``true_*``) are filled for simulation exports and null otherwise;
  every KASCADE file has the same schema (:func:`dlclab.store.schema.kascade_schema`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dlclab.identity import event_uuid_strings, uuid_ascii_to_arrow
from dlclab.store.schema import (
    KCDC_TO_STORE,
    conform,
    kascade_schema,
    kascade_stations_schema,
)

EXPERIMENT_KEY = "KASCADE"  # the experiment name hashed into event UUIDs
ROW_GROUP = 131_072
COMPRESSION = "lz4"


def _column(tables: dict[str, pd.DataFrame], component: str, name: str):
    frame = tables.get(component)
    if frame is None or name not in frame.columns:
        return None
    return frame[name].to_numpy()


def event_table(tables: dict[str, pd.DataFrame], dataset: str, *, keep_truth: bool = True,
                source: str = "export") -> pa.Table:
    """The unified KASCADE event table of one export's component tables (KCDC names,
    linear values, shared row order), not yet sorted."""
    from dlclab.errors import FormatError

    runs = _column(tables, "general", "R")
    events = _column(tables, "general", "Ev")
    if runs is None or events is None:
        raise FormatError(source, "the general component has no run (R) and event (Ev) numbers",
                          expected="general.R and general.Ev")
    n = len(runs)
    for component, frame in tables.items():
        if len(frame) != n:
            raise FormatError(source, f"component {component!r} has {len(frame)} rows, "
                              f"general has {n}", expected="a shared row order")
    columns: dict[str, Any] = {}
    for (component, quantity), column in KCDC_TO_STORE.items():
        if component == "truth" and not keep_truth:
            continue
        values = _column(tables, component, quantity)
        if values is not None and column != "uuid":
            columns[column] = values
    columns["uuid"] = uuid_ascii_to_arrow(event_uuid_strings(EXPERIMENT_KEY, runs, events))
    gt = _column(tables, "general", "Gt")
    mt = _column(tables, "general", "Mt")
    if gt is not None:
        ns = np.asarray(gt, dtype=np.int64) * 1_000_000_000 + (
            np.asarray(mt, dtype=np.int64) if mt is not None else 0)
        columns["time"] = pa.array(ns, type=pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    columns["dataset"] = pa.array(np.full(n, dataset, dtype=object), type=pa.string())
    table = pa.table({k: (v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v))
                      for k, v in columns.items()})
    return conform(table, kascade_schema())


def station_table(stations, uuids: pa.Array, runs, events, dataset: str) -> pa.Table:
    """One row per event and station from KCDC's jagged per-station arrays
    (``StationId``, ``EDeposit``, ``MDeposit``, ``Arrival``; awkward or a dict of lists)."""
    import awkward as ak

    arr = ak.Array(stations)
    counts = np.asarray(ak.num(arr, axis=1), dtype=np.int64)
    index = np.repeat(np.arange(len(counts)), counts)
    flat = {name: ak.to_numpy(ak.flatten(arr[name])) for name in arr.fields}
    table = pa.table({
        "uuid": pa.array(uuids).take(pa.array(index)),
        "run": pa.array(np.asarray(runs, dtype=np.int64)[index]),
        "event": pa.array(np.asarray(events, dtype=np.int64)[index]),
        "station_id": flat["StationId"], "e_deposit_MeV": flat["EDeposit"],
        "mu_deposit_MeV": flat["MDeposit"], "arrival_ns": flat["Arrival"],
        "dataset": pa.array(np.full(len(index), dataset, dtype=object), type=pa.string()),
    })
    return conform(table, kascade_stations_schema())


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # LZ4: decompresses at memory speed; measured floats barely shrink, but sparse columns
    # (GRANDE below threshold, truth in measured data) shrink to almost nothing
    pq.write_table(table, path, row_group_size=ROW_GROUP, compression=COMPRESSION,
                   write_statistics=True, use_dictionary=["dataset"])


def write_export(export, release_dir: Path, release: str, *, keep_truth: bool,
                 dataset: str | None = None) -> dict[str, Any]:
    """Write one export's tables into a release being built; returns its data-set entry
    for the manifest (events, exposure, arrays, source format)."""
    from dlclab.store.layout import check_name, table_dir

    info = getattr(export, "info", None)
    name = check_name("data set", dataset or getattr(info, "data_set", None) or "KASCADE")
    tables = dict(export.tables)
    source = str(getattr(export, "path", "") or name)
    events = event_table(tables, name, keep_truth=keep_truth, source=source)
    n_stations = None
    stations = getattr(export, "stations", None)
    if stations is not None:
        import awkward as ak

        counts = np.asarray(ak.num(ak.Array(stations), axis=1), dtype=np.int32)
        events = events.set_column(events.schema.get_field_index("n_stations"),
                                   events.schema.field("n_stations"), pa.array(counts))
        st = station_table(stations, events.column("uuid").combine_chunks(),
                           events.column("run").to_numpy(), events.column("event").to_numpy(), name)
        n_stations = st.num_rows
    order = pa.compute.sort_indices(events, sort_keys=[("energy_eV", "ascending")])
    _write(events.take(order), table_dir(release_dir, "events", "kascade", release) / f"{name}.parquet")
    if stations is not None:
        _write(st, table_dir(release_dir, "stations", "kascade", release) / f"{name}.parquet")
    exposure = getattr(info, "exposure", None) or {}
    entry: dict[str, Any] = {
        "n_events": int(events.num_rows), "facility": "kascade",
        "with_arrays": stations is not None, "simulation": bool(getattr(info, "simulation", False)),
        "truth": bool(keep_truth and getattr(info, "simulation", False)),
        # the whole exposure, thrown spectrum per species included (exact efficiencies)
        "exposure": dict(exposure) if isinstance(exposure, dict) else {},
    }
    if n_stations is not None:
        entry["n_station_rows"] = int(n_stations)
    fmt = getattr(export, "format", None) or getattr(info, "format", None)
    if fmt:
        entry["source_format"] = str(fmt)
    return entry


def ensure_stations_table(release_dir: Path, release: str) -> None:
    """Every KASCADE release has a ``stations`` table (empty if no export had arrays), so
    that the catalogue's ``stations`` entry loads for every release."""
    from dlclab.store.layout import table_dir

    directory = table_dir(release_dir, "stations", "kascade", release)
    if not directory.exists() or not any(directory.glob("*.parquet")):
        _write(kascade_stations_schema().empty_table(), directory / "none.parquet")


def datasets_table(datasets: dict[str, dict[str, Any]]) -> pa.Table:
    """The ``datasets.parquet`` table: one row per data set, the exposure's scalar values
    as columns (their keys carry the units: ``area_m2``, ``live_time_s``) and the whole
    exposure, nested values included, as JSON in ``exposure_json``."""
    import json

    from dlclab.store.manifest import plain

    rows = []
    for name, entry in sorted(datasets.items()):
        exposure = plain(entry.get("exposure") or {})
        row = {"dataset": name, "n_events": entry.get("n_events"),
               "facility": entry.get("facility"), "simulation": entry.get("simulation", False)}
        for key, value in exposure.items():
            if isinstance(value, (int, float, str, bool)) or value is None:
                row[key] = value
        row["exposure_json"] = json.dumps(exposure, sort_keys=True)
        rows.append(row)
    keys = list(dict.fromkeys(k for row in rows for k in row))  # data sets differ in keys
    return pa.table({k: [row.get(k) for row in rows] for k in keys})
