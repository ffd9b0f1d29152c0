"""Event selections of the dashboards: range cuts on store columns, their KCDC-style
text form, and export requests (through the Data Aggregation Service when the hub
offers it, otherwise written locally).

A selection is ``{column: (low, high)}`` in the column's own unit (``energy_eV`` in eV,
``zenith_deg`` in degrees); ``None`` leaves a side open.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dlclab import config

#: store column -> (KCDC quantity for DataShop-style cut text, thesaurus term of the service)
CUT_NAMES = {
    "energy_eV": ("E", "energy"), "zenith_deg": ("Ze", "zenith"), "azimuth_deg": ("Az", "azimuth"),
    "core_x_m": ("Xc", "core_x"), "core_y_m": ("Yc", "core_y"), "ne": ("Ne", "Ne"), "nmu": ("Nmu", "Nmu"),
    "age": ("Age", "age"),
}
#: columns that are shown and cut on a log10 scale
LOG_COLUMNS = {"energy_eV", "ne", "nmu", "grande_nch", "grande_nmu", "e_had_eV", "true_energy_eV", "true_ne",
               "true_nmu"}


def apply_cuts(frame: pd.DataFrame, cuts: dict[str, tuple[float | None, float | None]]) -> np.ndarray:
    """Boolean mask of the rows inside every range (low <= x < high); NaN fails a cut."""
    mask = np.ones(len(frame), dtype=bool)
    for col, (lo, hi) in cuts.items():
        x = frame[col].to_numpy(dtype=np.float64)
        if lo is not None:
            mask &= x >= lo
        if hi is not None:
            mask &= x < hi
    return mask


def cut_texts(cuts: dict[str, tuple[float | None, float | None]]) -> list[str]:
    """KCDC DataShop-style cut strings (``1e15<=E<1e16``) for the Info file."""
    out = []
    for col, (lo, hi) in cuts.items():
        name = CUT_NAMES.get(col, (col, col))[0]
        if lo is not None and hi is not None:
            out.append(f"{lo:.6g}<={name}<{hi:.6g}")
        elif lo is not None:
            out.append(f"{name}>={lo:.6g}")
        elif hi is not None:
            out.append(f"{name}<{hi:.6g}")
    return out


def service_cuts(cuts: dict[str, tuple[float | None, float | None]]) -> list[str]:
    """The aggregation service's ``TERM:MIN:MAX`` form (only columns it knows)."""
    out = []
    for col, (lo, hi) in cuts.items():
        if col in CUT_NAMES:
            out.append(f"{CUT_NAMES[col][1]}:{'' if lo is None else f'{lo:.6g}'}:{'' if hi is None else f'{hi:.6g}'}")
    return out


@dataclass
class ExportResult:
    via: str            # "service" or "local"
    location: str       # request id / URL, or the local folder
    n_events: int | None
    message: str


def _service_endpoint() -> tuple[str, dict] | None:
    """(URL of the service's export API, auth headers) when running in a hub user's server
    whose hub offers the ``data-aggregation`` service; None otherwise."""
    hub = config.hub_api()
    if hub is None:
        return None
    api, token = hub
    import requests

    headers = {"Authorization": f"token {token}"}
    try:
        r = requests.get(f"{api.rstrip('/')}/services/data-aggregation", headers=headers, timeout=5)
        if r.status_code != 200:
            return None
        info = r.json()
    except (requests.RequestException, ValueError):
        return None
    base = (info.get("url") or "").rstrip("/")
    prefix = (info.get("prefix") or "/services/data-aggregation/").rstrip("/")
    if not base:
        return None
    return f"{base}{prefix}/api/exports", headers


def request_export(events: pd.DataFrame, *, experiment: str, release: str, components: list[str],
                   quantities: list[str], cuts: dict, fmt: str = "ASCII",
                   local_dir: str | Path | None = None) -> ExportResult:
    """Ask the aggregation service for the export; without a reachable service write the
    selected rows locally (Parquet + CSV + an Info.txt describing the selection, like a
    KCDC download) under ``local_dir`` (default ``~/dlclab-exports``)."""
    endpoint = _service_endpoint()
    if endpoint is not None:
        import requests

        url, headers = endpoint
        body = {"format": fmt, "query": {"experiment": [experiment], "release": release},
                "components": components, "quantities": quantities, "cuts": service_cuts(cuts)}
        try:
            r = requests.post(url, json=body, headers=headers, timeout=10)
            if r.status_code == 202:
                doc = r.json()
                return ExportResult("service", doc.get("id", ""), doc.get("n_events"),
                                    f"export request {doc.get('id')} queued at the Data Aggregation Service")
        except requests.RequestException:
            pass
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(local_dir) if local_dir else Path.home() / "dlclab-exports"
    folder = folder / f"{experiment.lower()}_{release}_{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    cols = [c for c in events.columns if c in set(quantities) | {"uuid", "run", "event", "time"}] or list(events.columns)
    events[cols].to_parquet(folder / "events.parquet", index=False)
    events[cols].to_csv(folder / "events.csv", index=False)
    info = {"experiment": experiment, "release": release, "components": components, "quantities": cols,
            "cuts": cut_texts(cuts), "n_events": int(len(events)), "created_utc": stamp, "format": "Parquet+CSV"}
    (folder / "Info.txt").write_text("\n".join(f"{k}: {json.dumps(v) if not isinstance(v, str) else v}"
                                               for k, v in info.items()) + "\n")
    return ExportResult("local", str(folder), int(len(events)), f"{len(events)} events written to {folder}")
