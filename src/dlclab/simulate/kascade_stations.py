"""Per-station response of the KASCADE array: e/gamma and muon deposits and arrival times.

For each event and each of the 252 stations (:func:`dlclab.instruments.kascade.station_grid`):

- distance r to the shower axis in the shower plane, from the *true* core and direction;
- electrons: Poisson(NKG density x e/gamma area x cos Ze) particles, deposit a Gamma
  distributed sum of about 8 MeV each (a MIP in the 5 cm liquid scintillator), saturating
  at 30000 MeV;
- muons (outer clusters only, the inner ones have no muon detector): Poisson(Greisen
  density x 3.24 m^2 x cos Ze), about 6 MeV each, saturating at 1000 MeV;
- arrival time (ns, relative to the core crossing the ground): plane shower front,
  curvature delay r^2 / (2 R c) with R = 2000 m, front thickness (exponential, mean
  2 ns + r / 40 m ns) and 1.5 ns timing resolution.

Only stations with at least one particle are listed. Vectorised in blocks of events x 252.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dlclab.instruments.kascade import station_grid
from dlclab.simulate import kascade_physics as phys

MEV_PER_ELECTRON = 8.0
MEV_PER_MUON = 6.0
FRONT_CURVATURE_RADIUS_M = 2000.0
BLOCK_EVENTS = 4000


def simulate_stations(truth: pd.DataFrame, array: pd.DataFrame, rng: np.random.Generator):
    """One list of hit stations per event, as an awkward array of records
    ``{StationId: int16, EDeposit: float32 MeV, MDeposit: float32 MeV, Arrival: float32 ns}``."""
    import awkward as ak

    grid = station_grid()
    sx, sy = grid.x_m[None, :], grid.y_m[None, :]
    area_e, area_mu = grid.egamma_area_m2[None, :], grid.muon_area_m2[None, :]
    ids, edep, mdep, arr, counts = [], [], [], [], []
    n = len(truth)
    for lo in range(0, n, BLOCK_EVENTS):
        hi = min(n, lo + BLOCK_EVENTS)
        ze = np.deg2rad(truth["Ze_true"].to_numpy()[lo:hi])[:, None]
        az = np.deg2rad(truth["Az_true"].to_numpy()[lo:hi])[:, None]
        xc = truth["Xc_true"].to_numpy()[lo:hi, None]
        yc = truth["Yc_true"].to_numpy()[lo:hi, None]
        ne = truth["Ne_true"].to_numpy()[lo:hi, None]
        nmu = truth["Nmu_true"].to_numpy()[lo:hi, None]
        age = truth["Age_true"].to_numpy()[lo:hi, None]
        # axis points to where the shower comes from (azimuth from +x towards +y)
        ux, uy, uz = np.sin(ze) * np.cos(az), np.sin(ze) * np.sin(az), np.cos(ze)
        dx, dy = sx - xc, sy - yc
        along = dx * ux + dy * uy
        r = np.sqrt(np.maximum(dx ** 2 + dy ** 2 - along ** 2, 0.0))
        cos_ze = uz
        n_e = rng.poisson(phys.nkg_density_per_m2(r, ne, age) * area_e * cos_ze)
        n_mu = rng.poisson(phys.muon_density_per_m2(r, nmu) * area_mu * cos_ze)
        hit = (n_e + n_mu) > 0
        e_dep = np.minimum(rng.gamma(np.maximum(4.0 * n_e, 1e-300), MEV_PER_ELECTRON / 4.0) * (n_e > 0), 30000.0)
        m_dep = np.minimum(rng.gamma(np.maximum(4.0 * n_mu, 1e-300), MEV_PER_MUON / 4.0) * (n_mu > 0), 1000.0)
        shape = r.shape
        t = (-along / phys.SPEED_OF_LIGHT_M_PER_NS
             + r ** 2 / (2 * FRONT_CURVATURE_RADIUS_M * phys.SPEED_OF_LIGHT_M_PER_NS)
             + rng.exponential(1.0, shape) * (2.0 + r / 40.0)
             + 1.5 * rng.standard_normal(shape))
        t = np.clip(t, -1550.0, 2550.0)
        counts.append(hit.sum(axis=1))
        ids.append(np.broadcast_to(grid.station_id[None, :], shape)[hit])
        edep.append(e_dep[hit])
        mdep.append(m_dep[hit])
        arr.append(t[hit])
    counts_all = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    flat = ak.zip({
        "StationId": np.concatenate(ids).astype(np.int16) if ids else np.zeros(0, np.int16),
        "EDeposit": np.concatenate(edep).astype(np.float32) if edep else np.zeros(0, np.float32),
        "MDeposit": np.concatenate(mdep).astype(np.float32) if mdep else np.zeros(0, np.float32),
        "Arrival": np.concatenate(arr).astype(np.float32) if arr else np.zeros(0, np.float32),
    })
    return ak.unflatten(flat, counts_all)
