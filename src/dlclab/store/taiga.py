"""Raw TAIGA files -> the store's TAIGA tables and IACT images.

The raw files are decoded by :func:`dlclab.formats.taiga.read_file` (format from the
bytes). The raw data give no energy or direction: a TAIGA event table holds what the
files give (event number, time, cluster/station, facility, file) plus, for simulated
files, the true primary quantities from the truth sidecar, prefixed ``true_``.
Reconstruction is the analyses' job.

Identity of a TAIGA event: event numbers count the showers of a night (every cluster
or station file that recorded a shower carries its number), so ``run`` is the night
(YYYYMMDD, from the date folder) and the UUID is
:func:`dlclab.identity.event_uuid` of (facility, run, event), the identity the
simulator's truth tables use too. A Tunka-133 shower seen by three clusters is three
rows (one per cluster file) with the same ``uuid``.

Sidecars of simulated nights (``dlclab.simulate.taiga``), read from the night folder:
``truth.parquet`` (joined by run and event number, columns prefixed ``true_``),
``exposure.json`` (summed per facility into the manifest) and, for IACT,
``calibration.json`` (pedestals and gains: the images are also given in photo-electrons).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dlclab.errors import FormatError
from dlclab.identity import event_uuid_strings, uuid_ascii_to_arrow
from dlclab.store.schema import conform, taiga_schema
from dlclab.units import NS_PER_DAY

_DATE_DIR = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_SEQUENCE = re.compile(r"\.(\d{3})$")
ROW_GROUP = 131_072


@dataclass
class RawFile:
    """One raw file with what its path says (facility folder, night, sequence number)."""

    path: Path
    name: str           # relative to raw/taiga when below it, else the file name
    date: dt.date
    sequence: int

    @property
    def run(self) -> int:
        """The night as YYYYMMDD (event numbers count the showers of a night)."""
        return int(self.date.strftime("%Y%m%d"))


def describe_raw_file(path: Path, raw_root: Path | None, date: dt.date | None = None) -> RawFile:
    """Night and sequence number of a raw file from its path (``<YYYY-MM-DD>/<name>.NNN``);
    ``date`` overrides the folder (for files kept outside the layout)."""
    path = Path(path)
    m = _SEQUENCE.search(path.name)
    if not m:
        raise FormatError(path, "file name has no three-digit sequence number",
                          expected="<name>.NNN")
    if date is None:
        d = _DATE_DIR.match(path.parent.name)
        if not d:
            raise FormatError(path, "the night is unknown: the file is not in a date folder",
                              expected="raw/taiga/<facility>/<YYYY-MM-DD>/<name>.NNN, or --date")
        date = dt.date(int(d[1]), int(d[2]), int(d[3]))
    name = path.name
    if raw_root is not None and path.resolve().is_relative_to(Path(raw_root).resolve()):
        name = path.resolve().relative_to(Path(raw_root).resolve()).as_posix()
    return RawFile(path=path, name=name, date=date, sequence=int(m[1]))


def _uuids(facility: str, runs: np.ndarray, events: np.ndarray) -> pa.Array:
    return uuid_ascii_to_arrow(event_uuid_strings(facility, runs, events))


def _cluster_column(events: pd.DataFrame) -> np.ndarray:
    for name in ("cluster", "station"):
        if name in events.columns:
            return events[name].to_numpy(np.int64)
    return np.full(len(events), -1, dtype=np.int64)


@dataclass
class FileEvents:
    """Per-file results: the event rows (pandas) and, for IACT files, images."""

    raw: RawFile
    facility: str
    events: pd.DataFrame
    summary: dict[str, Any]
    #: IACT only: {"high_gain", "low_gain"[, "image_pe"]} -> (n_events, 560) float32
    images: dict[str, np.ndarray] | None = None


def read_raw_events(raw: RawFile, truth_finder: Callable[[RawFile, str], pd.DataFrame | None]
                    ) -> FileEvents:
    """Decode one raw file into event rows (shared + TAIGA columns + ``true_*``)."""
    from dlclab.formats.taiga import read_file

    data = read_file(raw.path)
    facility = data.format
    images = None
    if facility == "taiga_iact":
        from dlclab.store.iact import assemble_images

        ev, high, low = assemble_images(data)
        ev = ev.rename(columns={"n_boards": "n_packages"})
        images = {"high_gain": high, "low_gain": low}
        calibration = raw.path.parent / "calibration.json"
        if calibration.is_file():
            from dlclab.store.iact import calibrate_images, read_calibration

            images["image_pe"] = calibrate_images(high, low, read_calibration(calibration))
    else:
        ev = data.events.copy()
        if "n_packages" not in ev.columns:
            ev["n_packages"] = data.layout.packages_per_record if hasattr(data, "layout") else 1
    events = ev["event_number"].to_numpy(np.int64)
    time_ns = ev["time_ns"].to_numpy(np.int64)
    cluster = _cluster_column(ev)
    runs = np.full(len(events), raw.run, dtype=np.int64)
    midnight = np.datetime64(raw.date, "ns").astype(np.int64)
    if len(time_ns) and (time_ns.min() < 0 or time_ns.max() >= NS_PER_DAY):
        raise FormatError(raw.path, "event time outside the day", expected="0 <= time_ns < 86400 s")
    out = pd.DataFrame({
        "uuid": _uuids(facility, runs, events).to_pandas(),
        "run": runs, "event": events,
        "time": pd.to_datetime(midnight + time_ns, utc=True),
        "facility": facility,
        "cluster": pd.array(np.where(cluster >= 0, cluster, 0), dtype="Int32"),
        "date": raw.date, "time_ns": time_ns, "file": raw.name,
        "n_packages": ev["n_packages"].to_numpy(np.int32),
    })
    out.loc[cluster < 0, "cluster"] = pd.NA  # no cluster in the format (IACT)
    truth = truth_finder(raw, facility)
    if truth is not None:
        out = _join_truth(raw, out, truth)
    summary = data.summary()
    return FileEvents(raw=raw, facility=facility, events=out, summary=summary, images=images)


#: truth columns that are keys or bookkeeping, not truth
_TRUTH_KEYS = ("run", "event_number", "time_ns", "unix_time_ns", "uuid", "triggered")


def _join_truth(raw: RawFile, events: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Attach the truth rows of the file's night (run) by event number; truth columns
    get the prefix ``true_``. Every event must have its truth row."""
    if "event_number" not in truth.columns:
        raise FormatError(raw.path, "truth sidecar has no event_number column", expected="event_number")
    if "run" in truth.columns:
        truth = truth[truth["run"] == raw.run]
    truth = truth[truth["event_number"] >= 0].drop_duplicates(subset=["event_number"])
    keep = [c for c in truth.columns if c not in _TRUTH_KEYS]
    rename = {c: (c if c.startswith("true_") else f"true_{c}") for c in keep}
    truth = truth[["event_number", *keep]].rename(columns={"event_number": "event", **rename})
    merged = events.merge(truth, on="event", how="left", validate="many_to_one")
    first_truth = next(iter(rename.values()), None)
    if first_truth is not None and merged[first_truth].isna().any():
        missing = int(merged[first_truth].isna().sum())
        raise FormatError(raw.path, f"{missing} events have no row in the night's truth.parquet",
                          expected="one truth row per recorded event")
    return merged


def truth_sidecar_finder(raw_root: Path | None) -> Callable[[RawFile, str], pd.DataFrame | None]:
    """Finds the truth table of a simulated raw file: ``truth.parquet`` in its night folder."""
    def find(raw: RawFile, facility: str) -> pd.DataFrame | None:
        path = raw.path.parent / "truth.parquet"
        return pd.read_parquet(path) if path.is_file() else None

    return find


def night_exposures(files: list[FileEvents]) -> dict[str, dict[str, Any]]:
    """Exposure per facility from the nights' ``exposure.json``: live time summed over
    nights, area and zenith range (the same for every night), the nights themselves."""
    import json

    out: dict[str, dict[str, Any]] = {}
    seen: set[Path] = set()
    for f in files:
        path = f.raw.path.parent / "exposure.json"
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        night = json.loads(path.read_text())
        agg = out.setdefault(f.facility, {"live_time_s": 0.0, "nights": {}})
        agg["live_time_s"] += float(night.get("live_time_s", 0.0))
        agg["nights"][f.raw.date.isoformat()] = night
        for key in ("area_m2", "zenith_min_deg", "zenith_max_deg", "energy_min_eV", "energy_max_eV",
                    "solid_angle_sr", "projected_solid_angle_sr", "flux_model", "throw_radius_m"):
            if key in night and not isinstance(night[key], (list, dict)):
                agg.setdefault(key, night[key])
    return out


@dataclass
class TaigaConversion:
    """Everything one TAIGA release gets from its raw files."""

    files: list[FileEvents] = field(default_factory=list)

    def events_by_facility(self) -> dict[str, pd.DataFrame]:
        out: dict[str, list[pd.DataFrame]] = {}
        for f in self.files:
            out.setdefault(f.facility, []).append(f.events)
        return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


def _arrow_events(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return conform(table, schema)


def write_taiga_release(conversion: TaigaConversion, release_dir: Path, release: str,
                        exposure: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Write events (one Parquet file per facility), files.parquet and iact_images.zarr
    into a release being built; returns the data-set entries for the manifest."""
    from dlclab.store.iact import images_dataset, write_images
    from dlclab.store.layout import table_dir

    by_facility = conversion.events_by_facility()
    extra: dict[str, pa.DataType] = {}
    for frame in by_facility.values():
        for name in frame.columns:
            if name.startswith("true_") and name not in extra:
                extra[name] = pa.Array.from_pandas(frame[name]).type
    schema = taiga_schema(extra)
    events_dir = table_dir(release_dir, "events", "taiga", release)
    events_dir.mkdir(parents=True, exist_ok=True)
    datasets: dict[str, dict[str, Any]] = {}
    for facility, frame in sorted(by_facility.items()):
        frame = frame.assign(dataset=facility).sort_values(["time", "cluster"], kind="stable")
        table = _arrow_events(frame, schema)
        pq.write_table(table, events_dir / f"{facility}.parquet", row_group_size=ROW_GROUP,
                       compression="lz4")
        files = [f for f in conversion.files if f.facility == facility]
        has_truth = any(c.startswith("true_") for c in frame.columns)
        span_s = float(sum((f.events["time_ns"].max() - f.events["time_ns"].min()) / 1e9
                           for f in files if len(f.events)))
        exp = (exposure or {}).get(facility) or night_exposures(files).get(facility) or {
            "live_time_s": span_s, "live_time_note": "first to last event of each file"}
        entry = {"n_events": int(len(frame)), "n_showers": int(frame["uuid"].nunique()),
                 "facility": facility, "simulation": has_truth, "truth": has_truth,
                 "n_files": len(files), "nights": sorted({f.raw.date.isoformat() for f in files}),
                 "exposure": exp}
        datasets[facility] = entry
    # files table
    rows = []
    for f in conversion.files:
        s = f.summary
        rows.append({"file": f.raw.name, "facility": f.facility, "date": f.raw.date,
                     "sequence": f.raw.sequence, "run": f.raw.run, "bytes": f.raw.path.stat().st_size,
                     "sha256": _sha256(f.raw.path), "packages": s.get("packages"),
                     "events": s.get("events"), "first_event": s.get("first_event"),
                     "last_event": s.get("last_event"), "first_time": s.get("first_time"),
                     "last_time": s.get("last_time"),
                     "clusters": [int(c) for c in s.get("clusters") or []],
                     "truth": any(c.startswith("true_") for c in f.events.columns)})
    files_schema = pa.schema([
        ("file", pa.string()), ("facility", pa.string()), ("date", pa.date32()),
        ("sequence", pa.int32()), ("run", pa.int64()), ("bytes", pa.int64()), ("sha256", pa.string()),
        ("packages", pa.int64()), ("events", pa.int64()), ("first_event", pa.int64()),
        ("last_event", pa.int64()), ("first_time", pa.string()), ("last_time", pa.string()),
        ("clusters", pa.list_(pa.int32())), ("truth", pa.bool_())])
    pq.write_table(pa.Table.from_pylist(rows, schema=files_schema), release_dir / "files.parquet")
    # IACT images (an empty store when the release has no IACT file, so the entry loads)
    iact = [f for f in conversion.files if f.images is not None]
    from dlclab.instruments.taiga import IACT_N_PIXELS

    if iact:
        ev = pd.concat([f.events for f in iact], ignore_index=True)
        names = set.intersection(*(set(f.images) for f in iact))
        images = {k: np.concatenate([f.images[k] for f in iact]) for k in sorted(names)}
    else:
        ev = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
            ("uuid", "string"), ("run", "int64"), ("event", "int64"), ("file", "string"),
            ("n_packages", "int32"))})
        ev["time"] = pd.Series(dtype="datetime64[ns, UTC]")
        images = {k: np.empty((0, IACT_N_PIXELS), dtype=np.float32)
                  for k in ("high_gain", "low_gain", "image_pe")}
    coords = ev.drop(columns=[c for c in ("facility", "date", "time_ns", "cluster") if c in ev])
    coords = coords.rename(columns={"event": "event_number", "n_packages": "n_boards"})
    write_images(images_dataset(coords, images), release_dir / "iact_images.zarr")
    return datasets


def _sha256(path: Path) -> str:
    from dlclab.store.manifest import sha256_file

    return sha256_file(path)


def convert_raw_files(paths: Sequence[Path], raw_root: Path | None, *, date: dt.date | None = None,
                      progress: bool = False) -> TaigaConversion:
    """Decode raw files (with truth sidecars where present) for a release."""
    finder = truth_sidecar_finder(raw_root)
    conversion = TaigaConversion()
    items = [describe_raw_file(p, raw_root, date) for p in sorted(paths)]
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc="decode TAIGA raw files", unit="file")
    for raw in items:
        conversion.files.append(read_raw_events(raw, finder))
    return conversion
