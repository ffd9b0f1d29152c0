"""Tunka-133 event reconstruction from raw FADC traces.

Steps, per event:

1. **Pulses**: for each optical detector the anode channel (high gain) of its PMT slot;
   when the anode saturates, the dynode (low gain, x ``DYNODE_GAIN_RATIO``). Baseline =
   median of the first samples; charge = sum of the baseline-subtracted samples in a
   window around the peak (ADC counts x samples); time = the half-maximum crossing
   on the leading edge, interpolated between samples.
2. **Event building**: records of the same night and event number form one event (the
   DAQ numbers events array-wide).
3. **Direction**: least-squares plane front t_i = t0_cluster - (x_i u_x + y_i u_y) / c with
   one time offset per cluster (cluster triggers are stamped to the millisecond only),
   giving the unit vector towards the source (x east, y north): zenith from |u|, azimuth
   measured from north towards east.
4. **Core and Cherenkov density**: fit of the Tunka-style lateral distribution
   (:func:`tunka_ldf`) to ln Q_i at the detectors' distances from the shower axis; free
   ln Q_R, the inner steepness r0, core x and y (robust grid refinement).
5. **Energy**: lg E = q0 + q1 lg Q_R, calibrated on the simulation truth (Tunka-133's
   E ~ Q_175^0.94 relation, fitted here, not hard-coded).

Q is in "pulse charge per cos(zenith)" units (ADC counts x samples): the absolute light
calibration drops out of the truth-calibrated energy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dlclab.instruments import taiga as inst

C_LIGHT_M_PER_NS = 0.299792458
#: dynode channels see 1/25 of the anode signal (dlclab.instruments.taiga)
DYNODE_GAIN_RATIO = 25.0
#: ADC counts above the baseline at which the 12-bit anode channel counts as saturated
SATURATION_COUNTS = 1900.0
#: lateral distribution: knee distance (m) and power-law slope beyond it
LDF_KNEE_M = 120.0
LDF_SLOPE = 2.2


@dataclass(frozen=True)
class PulseSettings:
    sample_ns: float = 5.0
    baseline_samples: int = 64
    window_before: int = 8
    window_after: int = 60
    threshold_counts: float = 15.0  # minimum peak above baseline for a hit


def extract_pulses(fadc: NDArray, settings: PulseSettings = PulseSettings()) -> tuple[NDArray, NDArray, NDArray]:
    """Charge (counts x samples), leading-edge time within the trace (ns) and a hit flag
    for each of the 7 optical detectors of each record; ``fadc`` is (n, 32, 512)."""
    tr = np.asarray(fadc, dtype=np.float64)
    base = np.median(tr[:, :, :settings.baseline_samples], axis=2, keepdims=True)
    sig = tr - base
    anode = sig[:, inst.TUNKA133_ANODE_CHANNEL, :]
    dynode = sig[:, inst.TUNKA133_DYNODE_CHANNEL, :] * DYNODE_GAIN_RATIO
    saturated = anode.max(axis=2) >= SATURATION_COUNTS
    use = np.where(saturated[:, :, None], dynode, anode)
    peak_idx = use.argmax(axis=2)
    peak = np.take_along_axis(use, peak_idx[:, :, None], axis=2)[:, :, 0]
    n_s = use.shape[2]
    idx = np.arange(n_s)[None, None, :]
    window = (idx >= (peak_idx - settings.window_before)[:, :, None]) & (
        idx <= (peak_idx + settings.window_after)[:, :, None])
    charge = np.where(window, use, 0.0).sum(axis=2)
    # leading edge at half maximum: last sample below half before the peak
    half = 0.5 * peak[:, :, None]
    below = (use < half) & (idx < peak_idx[:, :, None])
    last_below = np.where(below, idx, -1).max(axis=2)
    lb = np.clip(last_below, 0, n_s - 2)
    y0 = np.take_along_axis(use, lb[:, :, None], axis=2)[:, :, 0]
    y1 = np.take_along_axis(use, (lb + 1)[:, :, None], axis=2)[:, :, 0]
    frac = np.clip((0.5 * peak - y0) / np.where(y1 > y0, y1 - y0, 1.0), 0.0, 1.0)
    t_ns = (lb + frac) * settings.sample_ns
    hit = peak >= settings.threshold_counts
    return charge, t_ns, hit


def fit_plane(x: NDArray, y: NDArray, t_ns: NDArray, w: NDArray | None = None,
              group: NDArray | None = None) -> tuple[float, float]:
    """Plane front through the hit times: returns (zenith_deg, azimuth_deg).

    ``group`` gives each hit's cluster: the Tunka-133 additional-info package stamps a
    cluster's trigger only to the millisecond, so pulse times are comparable within a
    cluster, not across clusters; each cluster gets its own free time offset.
    """
    w = np.ones_like(x) if w is None else w
    g = np.zeros(len(x), dtype=int) if group is None else pd.factorize(np.asarray(group))[0]
    offsets = np.eye(g.max() + 1)[g]
    a = np.column_stack([offsets, -x / C_LIGHT_M_PER_NS, -y / C_LIGHT_M_PER_NS]) * np.sqrt(w)[:, None]
    sol, *_ = np.linalg.lstsq(a, t_ns * np.sqrt(w), rcond=None)
    ux, uy = sol[-2], sol[-1]
    s = np.hypot(ux, uy)
    if s > 1.0:  # noisy times: project onto the horizon
        ux, uy, s = ux / s, uy / s, 1.0
    return float(np.rad2deg(np.arcsin(s))), float(np.rad2deg(np.arctan2(ux, uy)) % 360.0)


def _axis(zenith_deg: float, azimuth_deg: float) -> NDArray:
    z, a = np.deg2rad(zenith_deg), np.deg2rad(azimuth_deg)
    return np.array([np.sin(z) * np.sin(a), np.sin(z) * np.cos(a), np.cos(z)])


def axis_distance(x: NDArray, y: NDArray, core_x: float, core_y: float, axis: NDArray) -> NDArray:
    dx, dy = x - core_x, y - core_y
    along = dx * axis[0] + dy * axis[1]
    return np.sqrt(np.maximum(dx * dx + dy * dy - along * along, 0.0))


def tunka_ldf(r_m: NDArray, q_ref: float, r0_m: float, reference_m: float = 175.0) -> NDArray:
    """Tunka-133-style lateral distribution of the Cherenkov light, normalised to ``q_ref``
    at ``reference_m``: exponential inside the knee ``LDF_KNEE_M`` (steepness ``r0_m``,
    which follows the depth of the shower maximum), R^-2.2 to 200 m, then an extra
    exp(-(R - 200 m)/700 m) (Prosin et al. 2014, simplified)."""
    def shape(r):
        r = np.maximum(np.asarray(r, dtype=np.float64), 1.0)
        middle = (LDF_KNEE_M / r) ** LDF_SLOPE
        return np.where(r < LDF_KNEE_M, np.exp((LDF_KNEE_M - r) / r0_m),
                        np.where(r < 200.0, middle, middle * np.exp(-(r - 200.0) / 700.0)))
    return q_ref * shape(r_m) / shape(reference_m)


#: inner steepness values (m) the LDF fit chooses from
LDF_R0_GRID_M = np.array([35.0, 50.0, 70.0, 95.0, 130.0, 180.0])


def fit_ldf(x: NDArray, y: NDArray, q: NDArray, axis: NDArray, distance_m: float) -> tuple[float, float, float, float, bool]:
    """Core (x, y), ln Q at ``distance_m`` and the inner steepness r0 (m) of the lateral
    distribution (:func:`tunka_ldf`): a robust (L1 in ln Q) fit by successive grid
    refinement of the core (50 m, 10 m, 2 m steps) with ln Q in closed form (the median
    residual) and r0 from :data:`LDF_R0_GRID_M`. A grid, unlike a local optimiser, is not
    trapped by the local minima a few-cluster event has, and is fast vectorised."""
    lq = np.log(q)
    top = np.argsort(q)[-3:]
    cx, cy = float(np.average(x[top], weights=q[top])), float(np.average(y[top], weights=q[top]))
    best = (cx, cy, 0.0, 80.0, np.inf)
    for half, step in ((300.0, 50.0), (50.0, 10.0), (10.0, 2.0)):
        g = np.arange(-half, half + 1e-9, step)
        gx, gy = np.meshgrid(cx + g, cy + g)
        gx, gy = gx.ravel(), gy.ravel()
        dx, dy = x[None, :] - gx[:, None], y[None, :] - gy[:, None]
        along = dx * axis[0] + dy * axis[1]
        r = np.sqrt(np.maximum(dx * dx + dy * dy - along * along, 0.0))               # (cores, det)
        ls = np.log(np.stack([tunka_ldf(r, 1.0, r0, distance_m) for r0 in LDF_R0_GRID_M]))  # (r0, cores, det)
        resid = lq[None, None, :] - ls
        lnq = np.median(resid, axis=2)
        cost = np.abs(resid - lnq[:, :, None]).sum(axis=2)
        i_r0, i_core = np.unravel_index(int(np.argmin(cost)), cost.shape)
        cx, cy = float(gx[i_core]), float(gy[i_core])
        best = (cx, cy, float(lnq[i_r0, i_core]), float(LDF_R0_GRID_M[i_r0]), float(cost[i_r0, i_core]))
    ok = np.isfinite(best[4])
    return best[0], best[1], best[2], best[3], bool(ok)


def reconstruct(fadc: NDArray, records: pd.DataFrame, distance_m: float = 175.0,
                settings: PulseSettings = PulseSettings(), min_detectors: int = 5,
                progress: bool = False) -> pd.DataFrame:
    """Reconstruct every event of a set of cluster records.

    ``records`` has one row per FADC record (same order as ``fadc``) with ``cluster``
    (1..25), ``event_number``, ``time_ns`` (ns of the UTC day, millisecond precision) and
    ``date`` (the night's folder): records with the same date and event number are one
    event, as the Tunka DAQ numbers events array-wide. Returns one row per event with
    ``date``, ``event_number``, ``time_ns``, ``n_clusters``, ``n_detectors``,
    ``zenith_deg``, ``azimuth_deg``, ``core_x_m``, ``core_y_m``, ``lg_q_R`` (lg of the
    density at ``distance_m`` per cos zenith, in pulse-charge units), ``ldf_r0_m`` (inner steepness), ``ok``.
    """
    charge, t_in, hit = extract_pulses(fadc, settings)
    pos = inst.tunka133_detector_positions()
    cl = records["cluster"].to_numpy().astype(int) - 1
    keys = records[["date", "event_number"]].astype(str).agg("/".join, axis=1)
    codes, _ = pd.factorize(keys, sort=True)
    rows = []
    groups = pd.Series(np.arange(len(records))).groupby(codes)
    it = groups
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(groups, total=groups.ngroups, desc="Tunka-133 events")
    for _, idx in it:
        idx = idx.to_numpy()
        h = hit[idx]
        xs = pos[cl[idx], :, 0][h]
        ys = pos[cl[idx], :, 1][h]
        qs = charge[idx][h]
        ts = t_in[idx][h]
        gs = np.repeat(cl[idx][:, None], h.shape[1], axis=1)[h]
        first = idx[0]
        row = {"date": str(records["date"].iloc[first]), "event_number": int(records["event_number"].iloc[first]),
               "time_ns": int(records["time_ns"].iloc[idx].min()), "n_clusters": int(len(idx)),
               "n_detectors": int(h.sum()), "zenith_deg": np.nan, "azimuth_deg": np.nan, "core_x_m": np.nan,
               "core_y_m": np.nan, "lg_q_R": np.nan, "ldf_r0_m": np.nan, "ok": False}
        if h.sum() >= max(min_detectors, 4) and np.all(qs > 0):
            zen, az = fit_plane(xs, ys, ts, w=np.sqrt(qs), group=gs)
            axis = _axis(zen, az)
            cx, cy, lnq, b, ok = fit_ldf(xs, ys, qs, axis, distance_m)
            cos_z = np.cos(np.deg2rad(zen))
            row.update(zenith_deg=zen, azimuth_deg=az, core_x_m=cx, core_y_m=cy,
                       lg_q_R=(lnq - np.log(cos_z)) / np.log(10.0), ldf_r0_m=b, ok=ok)
        rows.append(row)
    return pd.DataFrame(rows)


def match_truth(reco: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Attach the true shower (columns prefixed ``true_``) to each reconstructed event by
    night and event number; ``truth`` has ``date``, ``event_number`` (-1 = not recorded)
    and ``shower`` (its row in the thrown sample)."""
    t = truth[truth["event_number"] >= 0].copy()
    t["date"] = t["date"].astype(str)
    t = t.rename(columns={c: f"true_{c}" for c in t.columns if c not in ("date", "event_number")})
    r = reco.copy()
    r["date"] = r["date"].astype(str)
    return r.merge(t, on=["date", "event_number"], how="left", validate="one_to_one")
