"""Tunka-Grande response: charged particles in the scintillator stations.

Per station and shower: electron density from NKG (Ne from the QGSJet parametrisation
of DOMAIN.md, Moliere radius 100 m, age 1.3) and muon density from the Greisen function
(Nmu likewise); Poisson numbers of particles in each channel (surface channels count
electrons and muons, underground channels muons only), a Landau-like spread of the
deposit (gamma distribution, 45 % per particle). A station triggers when its surface
channels together see at least 4 particles in at least 2 channels (the real stations
trigger at a few particles; threshold energy about 1e16 eV).

Traces: 8 blocks of 1024 samples of 5 ns (12 bit, baseline near 2048), channels 0-3
surface, 4-7 underground (see ``dlclab.instruments.taiga``); one MIP gives a peak of
30 ADC counts; the arrival time follows the curved front, the pulse widens with the
distance from the axis (thickness of the particle front, 15 ns + 10 ns per 100 m).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dlclab.instruments import taiga as layout
from dlclab.simulate.taiga_eas import (Showers, electron_number, greisen_muon_density_m2,
                                       muon_number, nkg_density_m2, pulse_area_samples,
                                       pulse_shape, shower_geometry)

SAMPLES = 1024
SAMPLE_NS = 5.0
TRIGGER_SAMPLE = 300
MIP_PEAK_ADC = 30.0
MIP_SPREAD = 0.45
BASELINE_ADC = 2048
NOISE_ADC = 2.0
ADC_MAX = 4095
MIN_PARTICLES = 4
MIN_CHANNELS = 2
TIME_STAMP_STEP_NS = 10


@dataclass
class StationHits:
    shower: NDArray[np.int64]
    station: NDArray[np.int16]
    particles: NDArray[np.int64]     # (m, 8) particles per channel
    r_m: NDArray[np.float64]         # (m,)
    delay_ns: NDArray[np.float64]    # (m,) front arrival relative to the core time
    time_delay_ns: NDArray[np.int64]  # (m,) station time stamp - core time, 10 ns steps

    def __len__(self) -> int:
        return len(self.shower)

    def take(self, sel) -> "StationHits":
        return StationHits(*(getattr(self, k)[sel] for k in StationHits.__dataclass_fields__))


def station_hits(showers: Showers, rng: np.random.Generator, chunk: int = 200_000) -> StationHits:
    """Particles in every Tunka-Grande station for every shower; keep triggered pairs."""
    pos = layout.tunka_grande_station_positions()
    parts: list[StationHits] = []
    n_e = electron_number(showers.energy_eV, showers.zenith_deg, showers.mass_number)
    n_mu = muon_number(showers.energy_eV, showers.mass_number)
    cos_z = np.cos(np.deg2rad(showers.zenith_deg))
    for start in range(0, len(showers), chunk):
        idx = np.arange(start, min(start + chunk, len(showers)))
        r, delay = shower_geometry(showers, pos, idx)                       # (k, 19)
        rho_e = nkg_density_m2(r, n_e[idx])
        rho_mu = greisen_muon_density_m2(r, n_mu[idx])
        c = cos_z[idx, None, None]
        mean_surface = ((rho_e + rho_mu)[:, :, None] * layout.TUNKA_GRANDE_SURFACE_AREA_M2 * c)
        mean_under = (rho_mu[:, :, None] * layout.TUNKA_GRANDE_UNDERGROUND_AREA_M2 * c)
        surface = rng.poisson(np.broadcast_to(mean_surface, r.shape + (4,)))
        under = rng.poisson(np.broadcast_to(mean_under, r.shape + (4,)))
        trig = (surface.sum(axis=2) >= MIN_PARTICLES) & ((surface > 0).sum(axis=2) >= MIN_CHANNELS)
        k, st = np.nonzero(trig)
        if len(k) == 0:
            continue
        d = delay[k, st]
        parts.append(StationHits(
            shower=idx[k].astype(np.int64), station=(st + 1).astype(np.int16),
            particles=np.concatenate([surface[k, st], under[k, st]], axis=1),
            r_m=r[k, st], delay_ns=d,
            time_delay_ns=(np.floor(d / TIME_STAMP_STEP_NS) * TIME_STAMP_STEP_NS).astype(np.int64)))
    if not parts:
        e = np.empty(0)
        return StationHits(e.astype(np.int64), e.astype(np.int16), np.empty((0, 8), np.int64),
                           e, e, e.astype(np.int64))
    hits = StationHits(*(np.concatenate([getattr(p, k) for p in parts])
                         for k in StationHits.__dataclass_fields__))
    return hits.take(np.lexsort((hits.station, hits.shower)))


def grande_traces(hits: StationHits, rng: np.random.Generator, seed: int) -> NDArray[np.uint16]:
    """(m, 8, 1024) uint16 traces of the station records ``hits``."""
    m = len(hits)
    n = hits.particles.astype(np.float64)
    deposit = np.where(n > 0, rng.gamma(np.maximum(n, 1) / MIP_SPREAD ** 2, MIP_SPREAD ** 2), 0.0)
    fwhm = (15.0 + 10.0 * hits.r_m / 100.0)[:, None]
    t = (np.arange(SAMPLES) - TRIGGER_SAMPLE) * SAMPLE_NS
    t0 = (hits.delay_ns - hits.time_delay_ns)[:, None] + rng.normal(0.0, 2.0, (m, 8))
    # one MIP of the narrowest pulse (15 ns) peaks at MIP_PEAK_ADC; wider pulses spread it
    peak = deposit * MIP_PEAK_ADC * pulse_area_samples(np.array(15.0), SAMPLE_NS) / pulse_area_samples(fwhm, SAMPLE_NS)
    shape = pulse_shape(t[None, None, :], t0[:, :, None], np.broadcast_to(fwhm, (m, 8))[:, :, None])
    traces = (peak[:, :, None] * shape).astype(np.float32)
    traces += NOISE_ADC * rng.standard_normal(traces.shape, dtype=np.float32)
    base_rng = np.random.default_rng([seed, 3032])
    base = BASELINE_ADC + np.round(6.0 * base_rng.standard_normal((layout.TUNKA_GRANDE_N_STATIONS, 8)))
    traces += base[hits.station.astype(int) - 1][:, :, None].astype(np.float32)
    return np.clip(np.rint(traces), 0, ADC_MAX).astype(np.uint16)
