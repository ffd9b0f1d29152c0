"""Tunka-133 response: Cherenkov light on the clusters' PMTs and their FADC traces.

Per cluster and shower: photo-electrons per PMT from the Cherenkov LDF
(:func:`dlclab.simulate.taiga_eas.cherenkov_ldf`) times the PMT response and cos(zenith);
arrival times from the curved front; a cluster triggers when at least 3 of its 7 PMTs
see at least ``THRESHOLD_PE`` photo-electrons. Its trigger time (the earliest of those
PMTs, in 10 ns steps as the DAQ stamps it) is the package time; its 32 FADC traces
(512 samples of 5 ns, 12 bit, baseline near 2048) hold the pulses with the trigger at
sample ``TRIGGER_SAMPLE``, as in the real sample ``t133.001``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dlclab.instruments import taiga as layout
from dlclab.simulate.taiga_eas import (Showers, cherenkov_ldf, cherenkov_pulse_fwhm_ns,
                                       distance_to_xmax_g_cm2, pulse_area_samples, pulse_shape,
                                       q175_from_energy, shower_geometry)

SAMPLES = 512
SAMPLE_NS = 5.0
TRIGGER_SAMPLE = 450
THRESHOLD_PE = 15.0
MIN_PMTS = 3
#: FADC charge of one photo-electron, ADC counts x samples (anode, high gain)
ANODE_CHARGE_PER_PE = 12.0
DYNODE_RATIO = 1.0 / 25.0
BASELINE_ADC = 2048
BASELINE_SPREAD_ADC = 6.0
NOISE_ADC = 1.2
ADC_MAX = 4095
#: relative shower-to-shower fluctuation of Q175 and PMT excess noise factor
Q175_FLUCTUATION = 0.05
EXCESS_NOISE = 0.3
TIME_STAMP_STEP_NS = 10


@dataclass
class ClusterHits:
    """Triggered (shower, cluster) pairs of Tunka-133 and what their PMTs saw."""

    shower: NDArray[np.int64]       # index into the Showers
    cluster: NDArray[np.int16]      # 1..25
    npe: NDArray[np.float64]        # (m, 7) expected photo-electrons
    delay_ns: NDArray[np.float64]   # (m, 7) arrival relative to the shower core time
    fwhm_ns: NDArray[np.float64]    # (m, 7)
    trigger_delay_ns: NDArray[np.int64]  # (m,) cluster time - shower core time, 10 ns steps

    def __len__(self) -> int:
        return len(self.shower)

    def take(self, sel) -> "ClusterHits":
        return ClusterHits(self.shower[sel], self.cluster[sel], self.npe[sel], self.delay_ns[sel],
                           self.fwhm_ns[sel], self.trigger_delay_ns[sel])


def cluster_hits(showers: Showers, clusters: list[int], rng: np.random.Generator,
                 chunk: int = 200_000) -> ClusterHits:
    """Light on every PMT of ``clusters`` for every shower; keep the triggered pairs."""
    det = layout.tunka133_detector_positions()
    out: list[ClusterHits] = []
    q175_all = q175_from_energy(showers.energy_eV) * np.exp(
        Q175_FLUCTUATION * rng.standard_normal(len(showers)))
    dx_all = distance_to_xmax_g_cm2(showers)
    cos_z = np.cos(np.deg2rad(showers.zenith_deg))
    for start in range(0, len(showers), chunk):
        idx = np.arange(start, min(start + chunk, len(showers)))
        for c in clusters:
            r, delay = shower_geometry(showers, det[c - 1], idx)       # (k, 7)
            q = cherenkov_ldf(r, q175_all[idx], dx_all[idx])
            npe = q * cos_z[idx, None] * layout.TUNKA133_PMT_RESPONSE_CM2_EV
            seen = rng.poisson(npe) >= THRESHOLD_PE
            trig = seen.sum(axis=1) >= MIN_PMTS
            if not trig.any():
                continue
            t_first = np.where(seen, delay, np.inf).min(axis=1)
            sel = np.flatnonzero(trig)
            step = TIME_STAMP_STEP_NS
            tdelay = (np.floor(t_first[sel] / step) * step).astype(np.int64)
            out.append(ClusterHits(
                shower=idx[sel].astype(np.int64), cluster=np.full(len(sel), c, dtype=np.int16),
                npe=npe[sel], delay_ns=delay[sel],
                fwhm_ns=cherenkov_pulse_fwhm_ns(r[sel], dx_all[idx[sel]]),
                trigger_delay_ns=tdelay))
    if not out:
        e = np.empty(0)
        return ClusterHits(e.astype(np.int64), e.astype(np.int16), np.empty((0, 7)),
                           np.empty((0, 7)), np.empty((0, 7)), e.astype(np.int64))
    cat = {k: np.concatenate([getattr(h, k) for h in out]) for k in ClusterHits.__dataclass_fields__}
    hits = ClusterHits(**cat)
    order = np.lexsort((hits.cluster, hits.shower))
    return hits.take(order)


def cluster_baselines(cluster: int, seed: int) -> NDArray[np.int64]:
    """Per-channel baseline (32,) of a cluster: fixed for a cluster and seed; channel
    pairs (2k, 2k+1) share one, as in the real data (one dual FADC chip)."""
    rng = np.random.default_rng([seed, 133, cluster])
    pair = BASELINE_ADC + np.round(BASELINE_SPREAD_ADC * rng.standard_normal(16))
    return np.repeat(pair, 2).astype(np.int64)


def fadc_traces(hits: ClusterHits, rng: np.random.Generator, seed: int) -> NDArray[np.uint16]:
    """(m, 32, 512) uint16 FADC traces of the cluster records ``hits``."""
    m = len(hits)
    t = (np.arange(SAMPLES, dtype=np.float64) - TRIGGER_SAMPLE) * SAMPLE_NS   # ns rel. trigger
    t0 = hits.delay_ns - hits.trigger_delay_ns[:, None] + rng.normal(0.0, 1.0, (m, 7))
    npe = rng.poisson(hits.npe).astype(np.float64)
    npe *= 1.0 + EXCESS_NOISE * rng.standard_normal(npe.shape) / np.sqrt(np.maximum(npe, 1.0))
    npe = np.maximum(npe, 0.0)
    peak_hi = npe * ANODE_CHARGE_PER_PE / pulse_area_samples(hits.fwhm_ns, SAMPLE_NS)   # (m, 7)
    shape = pulse_shape(t[None, None, :], t0[:, :, None], hits.fwhm_ns[:, :, None]).astype(np.float32)
    traces = NOISE_ADC * rng.standard_normal((m, 32, SAMPLES), dtype=np.float32)
    traces[:, layout.TUNKA133_ANODE_CHANNEL, :] += peak_hi[:, :, None].astype(np.float32) * shape
    traces[:, layout.TUNKA133_DYNODE_CHANNEL, :] += (
        peak_hi[:, :, None] * DYNODE_RATIO).astype(np.float32) * shape
    base = np.stack([cluster_baselines(int(c), seed) for c in np.unique(hits.cluster)]) if m else None
    if m:
        pos = np.searchsorted(np.unique(hits.cluster), hits.cluster)
        traces += base[pos][:, :, None].astype(np.float32)
    return np.clip(np.rint(traces), 0, ADC_MAX).astype(np.uint16)
