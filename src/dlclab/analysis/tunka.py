"""Tunka-133 event reconstruction from raw FADC traces.

Steps, per event:

1. **Pulses**: for each optical detector the anode channel (high gain) of its PMT slot;
   when the anode saturates, the dynode (low gain, x ``DYNODE_GAIN_RATIO``). Baseline =
   median of the first samples; charge = sum of the baseline-subtracted samples in a
   window around the peak (ADC counts x samples); time = the half-maximum crossing
   on the leading edge, interpolated between samples.
2. **Event building**: Tunka-133 clusters trigger independently; records of clusters
   whose trigger times lie within ``coincidence_ns`` form one event.
3. **Direction**: least-squares plane front t_i = t0 - (x_i u_x + y_i u_y) / c, giving
   the unit vector towards the source (x east, y north): zenith from |u|, azimuth
   measured from north towards east.
4. **Core and Cherenkov density**: fit of ln Q_i = ln Q_R - b ln((r_i + r1)/(R + r1)),
   with r_i the distance from the shower axis; free ln Q_R, b, core x and y
   (scipy ``least_squares``, soft-L1 loss against outliers).
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
#: smoothing distance of the fitted lateral distribution, m
LDF_R1_M = 50.0


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


def build_events(cluster_time_ns: NDArray, coincidence_ns: float = 5_000.0, day: NDArray | None = None) -> NDArray:
    """Event index for each cluster record: records (sorted by time) closer than
    ``coincidence_ns`` to the previous one join its event. ``day`` separates nights."""
    t = np.asarray(cluster_time_ns, dtype=np.int64)
    d = np.zeros_like(t) if day is None else np.asarray(day)
    order = np.lexsort((t, d))
    ts, ds = t[order], d[order]
    new = np.ones(len(t), dtype=bool)
    new[1:] = (np.diff(ts) > coincidence_ns) | (ds[1:] != ds[:-1])
    ev_sorted = np.cumsum(new) - 1
    out = np.empty(len(t), dtype=np.int64)
    out[order] = ev_sorted
    return out


def fit_plane(x: NDArray, y: NDArray, t_ns: NDArray, w: NDArray | None = None) -> tuple[float, float, float]:
    """Plane front through the hit times: returns (zenith_deg, azimuth_deg, t0_ns)."""
    w = np.ones_like(x) if w is None else w
    a = np.column_stack([np.ones_like(x), -x / C_LIGHT_M_PER_NS, -y / C_LIGHT_M_PER_NS]) * np.sqrt(w)[:, None]
    sol, *_ = np.linalg.lstsq(a, t_ns * np.sqrt(w), rcond=None)
    ux, uy = sol[1], sol[2]
    s = np.hypot(ux, uy)
    if s > 1.0:  # noisy times: project onto the horizon
        ux, uy, s = ux / s, uy / s, 1.0
    return float(np.rad2deg(np.arcsin(s))), float(np.rad2deg(np.arctan2(ux, uy)) % 360.0), float(sol[0])


def _axis(zenith_deg: float, azimuth_deg: float) -> NDArray:
    z, a = np.deg2rad(zenith_deg), np.deg2rad(azimuth_deg)
    return np.array([np.sin(z) * np.sin(a), np.sin(z) * np.cos(a), np.cos(z)])


def axis_distance(x: NDArray, y: NDArray, core_x: float, core_y: float, axis: NDArray) -> NDArray:
    dx, dy = x - core_x, y - core_y
    along = dx * axis[0] + dy * axis[1]
    return np.sqrt(np.maximum(dx * dx + dy * dy - along * along, 0.0))


def fit_ldf(x: NDArray, y: NDArray, q: NDArray, axis: NDArray, distance_m: float) -> tuple[float, float, float, float, bool]:
    """Core (x, y), ln Q at ``distance_m`` and slope b of the lateral distribution."""
    from scipy.optimize import least_squares

    lq = np.log(q)
    top = np.argsort(q)[-3:]
    x0 = [float(np.average(x[top], weights=q[top])), float(np.average(y[top], weights=q[top]))]

    def resid(p):
        cx, cy, lnq, b = p
        r = axis_distance(x, y, cx, cy, axis)
        return lq - (lnq + -b * np.log((r + LDF_R1_M) / (distance_m + LDF_R1_M)))

    r0 = axis_distance(x, y, x0[0], x0[1], axis)
    start_lnq = float(np.median(lq + 2.2 * np.log((r0 + LDF_R1_M) / (distance_m + LDF_R1_M))))
    res = least_squares(resid, [x0[0], x0[1], start_lnq, 2.2], loss="soft_l1", f_scale=0.3,
                        bounds=([-3000, -3000, -50, 0.5], [3000, 3000, 50, 6.0]))
    return float(res.x[0]), float(res.x[1]), float(res.x[2]), float(res.x[3]), bool(res.success)


def reconstruct(fadc: NDArray, records: pd.DataFrame, distance_m: float = 175.0,
                settings: PulseSettings = PulseSettings(), coincidence_ns: float = 5_000.0,
                min_detectors: int = 5, progress: bool = False) -> pd.DataFrame:
    """Reconstruct every event of a set of cluster records.

    ``records`` has one row per FADC record (same order as ``fadc``) with ``cluster``
    (1..25), ``time_ns`` (ns of the UTC day of the record's window start) and optionally
    ``night``/``date`` to keep nights apart. Returns one row per event with
    ``time_ns``, ``n_clusters``, ``n_detectors``, ``zenith_deg``, ``azimuth_deg``,
    ``core_x_m``, ``core_y_m``, ``lg_q_R`` (lg of the density at ``distance_m``),
    ``ldf_slope`` and ``ok``.
    """
    charge, t_in, hit = extract_pulses(fadc, settings)
    pos = inst.tunka133_detector_positions()
    cl = records["cluster"].to_numpy().astype(int) - 1
    t_abs = records["time_ns"].to_numpy().astype(np.float64)
    day = records["date"].astype(str).to_numpy() if "date" in records else None
    day_codes = pd.factorize(day)[0] if day is not None else None
    event = build_events(records["time_ns"].to_numpy(), coincidence_ns, day_codes)
    rows = []
    groups = pd.Series(np.arange(len(records))).groupby(event)
    it = groups
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(groups, total=groups.ngroups, desc="Tunka-133 events")
    for ev, idx in it:
        idx = idx.to_numpy()
        h = hit[idx]
        xs = pos[cl[idx], :, 0][h]
        ys = pos[cl[idx], :, 1][h]
        qs = charge[idx][h]
        ts = (t_in[idx] + (t_abs[idx] - t_abs[idx].min())[:, None])[h]
        row = {"event": int(ev), "time_ns": int(t_abs[idx].min()), "n_clusters": int(len(idx)),
               "n_detectors": int(h.sum()), "zenith_deg": np.nan, "azimuth_deg": np.nan, "core_x_m": np.nan,
               "core_y_m": np.nan, "lg_q_R": np.nan, "ldf_slope": np.nan, "ok": False,
               "first_record": int(idx[0])}
        if day is not None:
            row["date"] = day[idx[0]]
        if h.sum() >= max(min_detectors, 4) and np.all(qs > 0):
            zen, az, _ = fit_plane(xs, ys, ts, w=np.sqrt(qs))
            # a second pass with the curved front corrected by the first core estimate
            axis = _axis(zen, az)
            cx, cy, lnq, b, ok = fit_ldf(xs, ys, qs, axis, distance_m)
            cos_z = np.cos(np.deg2rad(zen))
            row.update(zenith_deg=zen, azimuth_deg=az, core_x_m=cx, core_y_m=cy,
                       lg_q_R=(lnq - np.log(cos_z)) / np.log(10.0), ldf_slope=b, ok=ok)
        rows.append(row)
    return pd.DataFrame(rows)


def match_truth(reco: pd.DataFrame, truth: pd.DataFrame, tolerance_ns: float = 20_000.0) -> pd.DataFrame:
    """Attach the true shower to each reconstructed event by nearest time (same night when
    both tables have ``date``); unmatched events get NaN truth."""
    r = reco.sort_values("time_ns").reset_index(drop=True)
    t = truth.sort_values("time_ns").reset_index(drop=True).add_prefix("true_")
    by = None
    if "date" in r and "true_date" in t:
        r["date"] = r["date"].astype(str)
        t["true_date"] = t["true_date"].astype(str)
        t = t.rename(columns={"true_date": "date"})
        by = "date"
    return pd.merge_asof(r, t, left_on="time_ns", right_on="true_time_ns", by=by, direction="nearest",
                         tolerance=int(tolerance_ns))
