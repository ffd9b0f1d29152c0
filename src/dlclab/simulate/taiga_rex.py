"""Tunka-Rex response: the radio pulse of the shower in the two antennas of a cluster.

Tunka-Rex is read out on every Tunka-133 cluster trigger (as the real array was), so a
Rex record exists for every triggered (shower, cluster) pair of Tunka-133.

Model (simplified from Schroeder, Prog. Part. Nucl. Phys. 93 (2017) 1 and the Tunka-Rex
energy reconstruction, Bezyazeekov et al. JCAP 01 (2016) 052):
- geomagnetic field amplitude eps = 250 uV/m (E / 1e17 eV) sin(alpha) f(r), with
  alpha the angle between the shower axis and the geomagnetic field and the lateral
  fall-off f(r) = min(2, exp(-(r - 100 m) / r_e)), r_e = 150 m sqrt(dX / 400 g cm^-2);
  polarised along v x B;
- charge excess, 10 % of eps / sin(alpha), polarised radially towards the axis;
- the field vector is projected on the north-south and east-west arms (no antenna
  pattern), band-limited to 30-80 MHz (the Tunka-Rex band) and sampled at 200 MHz;
- band-limited Gaussian noise (galactic + electronics), 8 ADC counts rms;
  0.5 ADC counts per uV/m, baseline near 2048, 12 bit.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dlclab.instruments import taiga as layout
from dlclab.simulate.taiga_eas import (GEOMAGNETIC_DECLINATION_DEG, GEOMAGNETIC_INCLINATION_DEG,
                                       Showers, distance_to_xmax_g_cm2, shower_geometry)
from dlclab.simulate.taiga_tunka133 import ClusterHits

SAMPLES = 512
SAMPLE_NS = 5.0
TRIGGER_SAMPLE = 256
EPS_AT_1E17_UV_M = 250.0
CHARGE_EXCESS_FRACTION = 0.1
ADC_PER_UV_M = 0.5
NOISE_ADC = 8.0
BASELINE_ADC = 2048
ADC_MAX = 4095
BAND_MHZ = (30.0, 80.0)


def geomagnetic_field_unit() -> NDArray[np.float64]:
    """Unit vector of the geomagnetic field at Tunka in (east, north, up)."""
    inc = np.deg2rad(GEOMAGNETIC_INCLINATION_DEG)
    dec = np.deg2rad(GEOMAGNETIC_DECLINATION_DEG)
    return np.array([np.cos(inc) * np.sin(dec), np.cos(inc) * np.cos(dec), -np.sin(inc)])


def sin_geomagnetic_angle(showers: Showers) -> NDArray[np.float64]:
    """sin of the angle between the direction of propagation and the geomagnetic field."""
    v = -showers.axis
    return np.linalg.norm(np.cross(v, geomagnetic_field_unit()), axis=1)


def band_limited_pulse(t_ns: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit-peak impulse response of an ideal 30-80 MHz band pass, Hann-windowed to +-100 ns."""
    f1, f2 = BAND_MHZ[0] * 1e-3, BAND_MHZ[1] * 1e-3     # GHz = 1/ns
    t = np.asarray(t_ns, dtype=np.float64)
    safe = np.where(np.abs(t) < 1e-9, 1e-9, t)
    h = (np.sin(2 * np.pi * f2 * safe) - np.sin(2 * np.pi * f1 * safe)) / (2 * np.pi * (f2 - f1) * safe)
    window = np.where(np.abs(t) < 100.0, 0.5 * (1 + np.cos(np.pi * t / 100.0)), 0.0)
    return h * window


def antenna_fields_uV_m(showers: Showers, hits: ClusterHits) -> tuple[NDArray, NDArray]:
    """Electric field (m, 2 antennas, 2 arms NS/EW) in uV/m at the peak, and the pulse
    arrival delay (m, 2) in ns relative to the cluster's trigger time."""
    idx = hits.shower
    ant = layout.tunka_rex_antenna_positions()[hits.cluster.astype(int) - 1]     # (m, 2, 2)
    r, delay = shower_geometry(showers, ant, idx, per_shower=True)           # (m, 2)
    u = showers.axis[idx]
    v = -u
    b = geomagnetic_field_unit()
    vxb = np.cross(v, b)
    sin_a = np.linalg.norm(vxb, axis=1)
    e_geo = vxb / np.maximum(sin_a, 1e-6)[:, None]
    # radial direction in the shower plane, from the antenna towards the axis
    d3 = np.concatenate([ant - np.stack([showers.core_x_m[idx], showers.core_y_m[idx]], 1)[:, None, :],
                         np.zeros(ant.shape[:2] + (1,))], axis=2)
    along = np.einsum("mak,mk->ma", d3, u)
    radial = -(d3 - along[..., None] * u[:, None, :])
    radial /= np.maximum(np.linalg.norm(radial, axis=2, keepdims=True), 1e-6)
    dx = distance_to_xmax_g_cm2(showers)[idx]
    r_e = 150.0 * np.sqrt(dx / 400.0)
    fall = np.minimum(2.0, np.exp(-(r - 100.0) / r_e[:, None]))
    scale = EPS_AT_1E17_UV_M * (showers.energy_eV[idx] / 1e17)
    eps_geo = scale[:, None] * sin_a[:, None] * fall
    eps_ce = CHARGE_EXCESS_FRACTION * scale[:, None] * fall
    field = eps_geo[..., None] * e_geo[:, None, :] + eps_ce[..., None] * radial     # (m, 2, 3)
    arms = np.stack([field[..., 1], field[..., 0]], axis=2)                        # NS, EW
    return arms, delay - hits.trigger_delay_ns[:, None]


def band_limited_noise(shape: tuple[int, ...], rng: np.random.Generator) -> NDArray[np.float32]:
    """Gaussian noise filtered to the 30-80 MHz band, unit rms, last axis = time."""
    white = rng.standard_normal(shape, dtype=np.float32)
    spec = np.fft.rfft(white, axis=-1)
    f_mhz = np.fft.rfftfreq(shape[-1], d=SAMPLE_NS * 1e-3)
    spec[..., (f_mhz < BAND_MHZ[0]) | (f_mhz > BAND_MHZ[1])] = 0
    noise = np.fft.irfft(spec, n=shape[-1], axis=-1).astype(np.float32)
    rms = np.sqrt((BAND_MHZ[1] - BAND_MHZ[0]) / f_mhz[-1])
    return noise / rms


def rex_traces(showers: Showers, hits: ClusterHits, rng: np.random.Generator) -> NDArray[np.uint16]:
    """(m, 4, 512) uint16 FADC traces: channels 0, 1 = antenna A (NS, EW), 2, 3 = antenna B."""
    m = len(hits)
    arms, delay = antenna_fields_uV_m(showers, hits)
    t = (np.arange(SAMPLES) - TRIGGER_SAMPLE) * SAMPLE_NS
    pulse = band_limited_pulse(t[None, None, :] - delay[:, :, None])                # (m, 2, S)
    signal = arms[..., None] * pulse[:, :, None, :] * ADC_PER_UV_M                    # (m, 2, 2, S)
    traces = signal.reshape(m, 4, SAMPLES).astype(np.float32)
    traces += NOISE_ADC * band_limited_noise((m, 4, SAMPLES), rng)
    traces += BASELINE_ADC
    return np.clip(np.rint(traces), 0, ADC_MAX).astype(np.uint16)
