"""TAIGA-HiSCORE response: Cherenkov light in the wide-angle stations.

Same light model as Tunka-133 (:func:`dlclab.simulate.taiga_eas.cherenkov_ldf`), with
the station's 0.5 m^2 of Winston cones: N_pe = Q(R) cos(zenith) x 1500 cm^2 eV (about
15 times a Tunka-133 PMT, hence a threshold of about 1e14 eV). A station triggers when
its analogue sum sees at least ``THRESHOLD_PE`` photo-electrons. Each station record
has 9 blocks of ``SAMPLES`` DRS4 samples of 0.5 ns (12 bit, baseline near 2048):
blocks 2k / 2k+1 = anode / dynode (1/15) of PMT k (k = 0..3), block 8 = analogue sum of
the anodes divided by 4; ``offsets`` = the DRS4 stop cell (0..1023), the same for the 9
blocks of a record. Pulses are narrower than Tunka-133's: FWHM = 4 ns + 25 ns (R/400 m)^2
sqrt(400 / dX).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dlclab.instruments import taiga as layout
from dlclab.simulate.taiga_eas import (Showers, cherenkov_ldf, distance_to_xmax_g_cm2,
                                       pulse_area_samples, pulse_shape, q175_from_energy,
                                       shower_geometry)

SAMPLES = 256
SAMPLE_NS = 0.5
TRIGGER_SAMPLE = 80
STATION_RESPONSE_CM2_EV = 1500.0
THRESHOLD_PE = 60.0
ANODE_CHARGE_PER_PE = 8.0      # ADC counts x samples
DYNODE_RATIO = 1.0 / 15.0
BASELINE_ADC = 2048
NOISE_ADC = 2.0
ADC_MAX = 4095
TIME_STAMP_STEP_NS = 10


@dataclass
class HiscoreHits:
    shower: NDArray[np.int64]
    station: NDArray[np.int16]
    npe: NDArray[np.float64]          # (m,) expected pe of the station
    fwhm_ns: NDArray[np.float64]
    delay_ns: NDArray[np.float64]
    time_delay_ns: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.shower)

    def take(self, sel) -> "HiscoreHits":
        return HiscoreHits(*(getattr(self, k)[sel] for k in HiscoreHits.__dataclass_fields__))


def station_hits(showers: Showers, rng: np.random.Generator, chunk: int = 200_000) -> HiscoreHits:
    pos = layout.hiscore_station_positions()
    q175 = q175_from_energy(showers.energy_eV)
    dx = distance_to_xmax_g_cm2(showers)
    cos_z = np.cos(np.deg2rad(showers.zenith_deg))
    parts = []
    for start in range(0, len(showers), chunk):
        idx = np.arange(start, min(start + chunk, len(showers)))
        r, delay = shower_geometry(showers, pos, idx)
        npe = cherenkov_ldf(r, q175[idx], dx[idx]) * cos_z[idx, None] * STATION_RESPONSE_CM2_EV
        trig = rng.poisson(npe) >= THRESHOLD_PE
        k, st = np.nonzero(trig)
        if len(k) == 0:
            continue
        fwhm = np.clip(4.0 + 25.0 * (r[k, st] / 400.0) ** 2 * np.sqrt(400.0 / dx[idx[k]]), 4.0, 200.0)
        d = delay[k, st]
        parts.append(HiscoreHits(idx[k].astype(np.int64), (st + 1).astype(np.int16), npe[k, st], fwhm, d,
                                 (np.floor(d / TIME_STAMP_STEP_NS) * TIME_STAMP_STEP_NS).astype(np.int64)))
    if not parts:
        e = np.empty(0)
        return HiscoreHits(e.astype(np.int64), e.astype(np.int16), e, e, e, e.astype(np.int64))
    hits = HiscoreHits(*(np.concatenate([getattr(p, k) for p in parts])
                         for k in HiscoreHits.__dataclass_fields__))
    return hits.take(np.lexsort((hits.station, hits.shower)))


def hiscore_traces(hits: HiscoreHits, rng: np.random.Generator) -> tuple[NDArray[np.uint16], NDArray[np.uint16]]:
    """Traces (m, 9, 256) uint16 and DRS4 offsets (m, 9) uint16 of the station records."""
    m = len(hits)
    npe = rng.poisson(np.repeat(hits.npe[:, None] / 4.0, 4, axis=1)).astype(np.float64)   # (m, 4)
    t = (np.arange(SAMPLES) - TRIGGER_SAMPLE) * SAMPLE_NS
    t0 = (hits.delay_ns - hits.time_delay_ns)[:, None] + rng.normal(0.0, 0.5, (m, 4))
    fwhm = hits.fwhm_ns[:, None, None]
    shape = pulse_shape(t[None, None, :], t0[:, :, None], fwhm)                        # (m, 4, S)
    peak = npe * ANODE_CHARGE_PER_PE / pulse_area_samples(hits.fwhm_ns[:, None], SAMPLE_NS)
    anode = peak[:, :, None] * shape
    traces = np.empty((m, 9, SAMPLES), dtype=np.float32)
    traces[:, 0:8:2] = anode
    traces[:, 1:8:2] = anode * DYNODE_RATIO
    traces[:, 8] = anode.sum(axis=1) / 4.0
    traces += NOISE_ADC * rng.standard_normal(traces.shape, dtype=np.float32) + BASELINE_ADC
    offsets = np.repeat(rng.integers(0, 1024, (m, 1)), 9, axis=1).astype(np.uint16)
    return np.clip(np.rint(traces), 0, ADC_MAX).astype(np.uint16), offsets
