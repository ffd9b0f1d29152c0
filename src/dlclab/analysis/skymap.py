"""Arrival directions: local (zenith, azimuth) at a site -> equatorial (RA, Dec) with
astropy, a sky map and a first-harmonic (Rayleigh) anisotropy test in right ascension.

Azimuth convention: degrees from north towards east (astropy's AltAz). Simulators that
use another convention must convert before calling this module.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from dlclab.instruments.sites import Site


def _offline_iers() -> None:
    # no network at run time: use the IERS-B table bundled with astropy and do not
    # refuse times beyond it (only polar motion at the arc-second level is affected)
    from astropy.utils import iers

    iers.conf.auto_download = False
    iers.conf.auto_max_age = None
    iers.conf.iers_degraded_accuracy = "warn"


def to_equatorial(site: Site, unix_time_s: ArrayLike, zenith_deg: ArrayLike,
                  azimuth_deg: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(RA, Dec) in degrees (ICRS) of showers seen at ``site`` at Unix times (s, UTC)."""
    import warnings

    import astropy.units as u
    from astropy.coordinates import ICRS, AltAz, SkyCoord
    from astropy.time import Time

    _offline_iers()
    t = Time(np.asarray(unix_time_s, dtype=np.float64), format="unix", scale="utc")
    alt = 90.0 - np.asarray(zenith_deg, dtype=np.float64)
    frame = AltAz(obstime=t, location=site.earth_location())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = SkyCoord(alt=alt * u.deg, az=np.asarray(azimuth_deg, dtype=np.float64) * u.deg, frame=frame)
        eq = c.transform_to(ICRS())
    return eq.ra.deg, eq.dec.deg


@dataclass(frozen=True)
class RayleighResult:
    """First harmonic in right ascension: amplitude, phase (deg), chance probability and
    the equivalent one-sided Gaussian significance."""

    n_events: int
    amplitude: float
    phase_deg: float
    chance_probability: float
    significance_sigma: float
    amplitude_upper_limit_99: float

    def as_dict(self) -> dict:
        return dict(vars(self))


def rayleigh_test(ra_deg: ArrayLike, weights: ArrayLike | None = None) -> RayleighResult:
    """Rayleigh test of the first harmonic: r = 2/N |sum w exp(i RA)|, P = exp(-N r^2 / 4)."""
    ra = np.deg2rad(np.asarray(ra_deg, dtype=np.float64))
    w = np.ones_like(ra) if weights is None else np.asarray(weights, dtype=np.float64)
    n = float(w.sum())
    a = 2.0 / n * np.sum(w * np.cos(ra))
    b = 2.0 / n * np.sum(w * np.sin(ra))
    r = float(np.hypot(a, b))
    k = n * r * r / 4.0
    p = float(np.exp(-k))
    sigma = float(stats.norm.isf(p)) if p < 0.5 else 0.0
    # 99% upper limit on the amplitude (Linsley 1975): sqrt(4 ln(100) / N) for an isotropic sky
    ul = float(np.sqrt(-4.0 * np.log(0.01) / n))
    return RayleighResult(int(len(ra)), r, float(np.rad2deg(np.arctan2(b, a)) % 360.0), p, sigma, ul)


def sky_map(ra_deg: ArrayLike, dec_deg: ArrayLike, nside_ra: int = 36, nside_dec: int = 18):
    """Counts in an (RA, Dec) grid: edges in degrees and the 2-D histogram (dec, ra)."""
    ra_edges = np.linspace(0.0, 360.0, nside_ra + 1)
    # equal-area bands in sin(Dec)
    dec_edges = np.rad2deg(np.arcsin(np.linspace(-1.0, 1.0, nside_dec + 1)))
    h, _, _ = np.histogram2d(np.asarray(dec_deg), np.asarray(ra_deg), bins=[dec_edges, ra_edges])
    return ra_edges, dec_edges, h


def relative_intensity(ra_deg: ArrayLike, dec_deg: ArrayLike, nside_ra: int = 24, nside_dec: int = 12):
    """Relative intensity per cell: counts / mean over the same declination band (the
    time-scrambling-free estimate for a detector with exposure uniform in sidereal time)
    and the Li-Ma-free naive significance (n - mean) / sqrt(mean)."""
    ra_edges, dec_edges, h = sky_map(ra_deg, dec_deg, nside_ra, nside_dec)
    band_mean = h.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ri = np.where(band_mean > 0, h / band_mean, np.nan)
        sig = np.where(band_mean > 0, (h - band_mean) / np.sqrt(band_mean), np.nan)
    return ra_edges, dec_edges, ri, sig
