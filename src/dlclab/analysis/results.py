"""Machine-readable results beside the executed notebook.

Every analysis writes into its output directory:

* ``<name>.csv`` tables whose column names carry their unit (``energy_eV``,
  ``flux_per_GeV_m2_s_sr``, ``..._stat_err_...``), written with a fixed float format so
  that identical inputs give byte-identical files;
* ``results.json``: scalar results as ``{"value", "error", "unit"}`` objects plus a
  ``tables`` index naming each CSV with its columns' units.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from dlclab import config

RESULTS_JSON = "results.json"


def output_dir(default: str | os.PathLike | None = None) -> Path:
    """Where a notebook writes its results: its ``output_dir`` parameter if given, else the
    directory of the run that executes it, else ``./results``."""
    if default:
        path = Path(default)
    else:
        path = config.run_output_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _unit_of(column: str) -> str:
    for suffix, unit in (("_per_GeV_m2_s_sr", "GeV^-1 m^-2 s^-1 sr^-1"), ("_GeV1.6_per_m2_s_sr", "GeV^1.6 m^-2 s^-1 sr^-1"),
                         ("_eV", "eV"), ("_deg", "deg"), ("_m2_s_sr", "m^2 s sr"), ("_m2", "m^2"),
                         ("_s", "s"), ("_m", "m"), ("_sigma", "sigma")):
        if column.endswith(suffix):
            return unit
    return ""


class ResultWriter:
    """Collects an analysis' tables and scalars and writes them deterministically."""

    def __init__(self, directory: str | os.PathLike, analysis: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.analysis = analysis
        self.scalars: dict[str, object] = {}
        self.tables: dict[str, dict] = {}

    def scalar(self, name: str, value: float, error: float | None = None, unit: str = "", **extra) -> None:
        entry = {"value": _clean(value), "error": _clean(error), "unit": unit}
        entry.update({k: _clean(v) for k, v in extra.items()})
        self.scalars[name] = entry

    def add(self, name: str, payload: dict) -> None:
        """A nested, already JSON-ready block (fit results, calibration coefficients)."""
        self.scalars[name] = _clean(payload)

    def table(self, name: str, frame, description: str = "") -> Path:
        path = self.directory / f"{name}.csv"
        frame.to_csv(path, index=False, float_format="%.8g", lineterminator="\n")
        self.tables[name] = {"file": path.name, "description": description,
                             "columns": {c: _unit_of(c) for c in frame.columns}, "rows": int(len(frame))}
        return path

    def write(self) -> Path:
        path = self.directory / RESULTS_JSON
        doc = {"analysis": self.analysis, "results": self.scalars, "tables": self.tables}
        path.write_text(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n")
        return path


def _clean(v):
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if not np.isfinite(f) else float(f"{f:.10g}")
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def read_results(directory: str | os.PathLike) -> dict:
    """The ``results.json`` of a run directory."""
    return json.loads((Path(directory) / RESULTS_JSON).read_text())
