"""Test storages built from the lab's simulator and writers, in the real formats.

* raw TAIGA files (Tunka-133, TAIGA-IACT) written by ``dlclab.formats.taiga.write_*``
  with event times from the TAIGA EAS simulator, in ``<facility>/<YYYY-MM-DD>/<name>.NNN``;
* a release of the analysis-ready store: Parquet event tables of simulated showers
  (energy_eV, zenith_deg, ...) with a ``manifest.json`` written by ``dlclab.store``.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dlclab.formats.taiga import write_taiga_iact, write_tunka133
from dlclab.simulate.taiga_eas import throw_showers, tunka_nights

RAW_LAYOUT = {"tunka133": "tunka133", "taiga_iact": "taiga_iact"}


def showers(n: int, seed: int, nights: int = 1):
    rng = np.random.default_rng(seed)
    return throw_showers(n, rng, energy_min_eV=1e15, energy_max_eV=1e17, zenith_max_deg=45.0,
                         throw_centre_m=(0.0, 0.0), throw_radius_m=500.0,
                         nights=tunka_nights(nights))


def write_raw_tunka133(path: Path, n_events: int, seed: int, cluster: int = 1,
                       first_event: int = 1) -> Path:
    sim = showers(n_events, seed)
    rng = np.random.default_rng(seed)
    fadc = (2048 + rng.integers(-3, 4, size=(n_events, 32, 512))).astype(np.uint16)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_tunka133(path, event_number=np.arange(first_event, first_event + n_events),
                   time_ns=sim.time_ns, fadc=fadc, cluster=cluster, optical_line_length=500)
    return path


def write_raw_iact(path: Path, n_events: int, seed: int, board: int = 0) -> Path:
    sim = showers(n_events, seed)
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_taiga_iact(path, event_number=np.arange(100, 100 + n_events), time_ns=sim.time_ns,
                     board=board, high_gain=rng.integers(600, 900, (n_events, 32)).astype(np.uint16),
                     low_gain=rng.integers(600, 700, (n_events, 32)).astype(np.uint16))
    return path


def build_raw_taiga(root: Path, n_files: int = 3, n_events: int = 5) -> list[Path]:
    """``n_files`` Tunka-133 files of one night (clusters 1, 2, ...) and one IACT file."""
    night = tunka_nights(1)[0].date.isoformat()
    files = [write_raw_tunka133(root / "tunka133" / night / f"cluster{i + 1:02d}.{i + 1:03d}",
                                n_events, seed=10 + i, cluster=i + 1) for i in range(n_files)]
    files.append(write_raw_iact(root / "taiga_iact" / night / "iact.001", 20, seed=99))
    return files


def build_release(data_root: Path, experiment: str, release: str, access: str,
                  n_events: int, seed: int, n_files: int = 2, doi: str | None = None) -> Path:
    """A release directory of the store with Parquet event tables and its manifest."""
    from dlclab.store.manifest import Manifest, ReleaseInfo, build_id, list_files

    release_dir = data_root / experiment / release
    table_dir = release_dir / "events" / f"experiment={experiment}" / f"release={release}"
    table_dir.mkdir(parents=True, exist_ok=True)
    sim = showers(n_events * n_files, seed)
    gps = sim.unix_time_ns() / 1e9
    rng = np.random.default_rng(seed)
    for i in range(n_files):
        part = slice(i * n_events, (i + 1) * n_events)
        table = pa.table({
            "uuid": [str(uuid.UUID(int=int(x), version=4)) for x in rng.integers(0, 2**62, n_events)],
            "experiment": [experiment] * n_events, "release": [release] * n_events,
            "gps_time_s": gps[part], "energy_eV": sim.energy_eV[part],
            "zenith_deg": sim.zenith_deg[part], "azimuth_deg": sim.azimuth_deg[part],
            "core_x_m": sim.core_x_m[part], "core_y_m": sim.core_y_m[part]})
        pq.write_table(table, table_dir / f"set{i + 1}.parquet")
    info = ReleaseInfo(experiment=experiment, release=release, version="1",
                       title=f"Simulated {experiment} showers ({release})",
                       description="Simulated air showers (H3a) for the catalogue tests",
                       kind="simulation", doi=doi, access=access)
    sources = [{"name": "taiga_eas simulator", "sha256": "0" * 64, "bytes": 0}]
    Manifest(info=info, created="2026-11-24T06:00:00Z", datasets={},
             sources=sources, build_id=build_id(info, sources, {"seed": seed}),
             files=list_files(release_dir)).write(release_dir)
    return release_dir
