"""The KASCADE array: 252 detector stations in 16 clusters on 200 m x 200 m.

Stations sit on a square grid of 13 m spacing (16 x 16 positions); the four positions
at the centre are taken by the central detector (hadron calorimeter), which leaves
252 stations. Clusters are 4 x 4 blocks of stations: the 12 outer clusters have 16
stations, each with e/gamma detectors and a shielded muon detector; the 4 inner
clusters have 15 stations each, with e/gamma detectors only (no muon detector).
Detector areas follow the KASCADE design (Antoni et al., NIM A 513 (2003) 490):
outer stations 2 x 0.785 m^2 e/gamma plus 3.24 m^2 muon scintillator, inner stations
4 x 0.785 m^2 e/gamma.

Station ids are 1..252, counted row by row from the south-west corner (x fastest),
skipping the central positions; cluster ids are 1..16 in the same order. The lab's
numbering, documented here so that it can be corrected in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

GRID_SPACING_M = 13.0
GRID_POSITIONS = 16
ARRAY_SIZE_M = 200.0
N_STATIONS = 252
N_CLUSTERS = 16
EGAMMA_AREA_OUTER_M2 = 2 * 0.785
EGAMMA_AREA_INNER_M2 = 4 * 0.785
MUON_AREA_OUTER_M2 = 3.24
#: central detector (calorimeter) footprint, m (x and y extent around the array centre)
CALORIMETER_SIZE_M = (16.0, 20.0)


@dataclass(frozen=True)
class StationGrid:
    """Per-station columns, all of length 252."""

    station_id: NDArray[np.int16]
    cluster_id: NDArray[np.int16]
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    inner: NDArray[np.bool_]
    egamma_area_m2: NDArray[np.float64]
    muon_area_m2: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.station_id)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({
            "station_id": self.station_id, "cluster_id": self.cluster_id, "x_m": self.x_m,
            "y_m": self.y_m, "inner": self.inner, "egamma_area_m2": self.egamma_area_m2,
            "muon_area_m2": self.muon_area_m2})


@lru_cache(maxsize=1)
def station_grid() -> StationGrid:
    """The 252 stations (cached; arrays are read-only)."""
    coords = (np.arange(GRID_POSITIONS) - (GRID_POSITIONS - 1) / 2) * GRID_SPACING_M
    ix, iy = np.meshgrid(np.arange(GRID_POSITIONS), np.arange(GRID_POSITIONS), indexing="xy")
    ix, iy = ix.ravel(), iy.ravel()
    central = np.isin(ix, (7, 8)) & np.isin(iy, (7, 8))
    ix, iy = ix[~central], iy[~central]
    cluster = (iy // 4) * 4 + (ix // 4) + 1
    inner = np.isin(cluster, (6, 7, 10, 11))
    grid = StationGrid(
        station_id=np.arange(1, len(ix) + 1, dtype=np.int16),
        cluster_id=cluster.astype(np.int16),
        x_m=coords[ix].astype(np.float64),
        y_m=coords[iy].astype(np.float64),
        inner=inner,
        egamma_area_m2=np.where(inner, EGAMMA_AREA_INNER_M2, EGAMMA_AREA_OUTER_M2),
        muon_area_m2=np.where(inner, 0.0, MUON_AREA_OUTER_M2),
    )
    for arr in vars(grid).values():
        arr.setflags(write=False)
    assert len(grid) == N_STATIONS
    return grid
