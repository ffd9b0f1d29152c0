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


def to_equatorial_exact(site: Site, unix_time_s: ArrayLike, zenith_deg: ArrayLike,
                        azimuth_deg: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(RA, Dec) in degrees (ICRS) with astropy's full AltAz -> ICRS transformation
    (precession, nutation, aberration, polar motion); slow for 1e5 events (per-time ERFA)."""
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


def local_sidereal_time_deg(site: Site, unix_time_s: ArrayLike) -> NDArray[np.float64]:
    """Mean local sidereal time at ``site`` (deg), astropy, vectorised."""
    import warnings

    import astropy.units as u
    from astropy.time import Time

    _offline_iers()
    t = Time(np.asarray(unix_time_s, dtype=np.float64), format="unix", scale="utc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(t.sidereal_time("mean", longitude=site.longitude_deg * u.deg).deg)


def hour_angle_declination(site: Site, zenith_deg: ArrayLike, azimuth_deg: ArrayLike):
    """(hour angle, declination) in degrees of local directions at ``site`` (exact spherical
    triangle; equator of date). Independent of time, which makes time scrambling cheap."""
    lat = np.deg2rad(site.latitude_deg)
    alt = np.deg2rad(90.0 - np.asarray(zenith_deg, dtype=np.float64))
    az = np.deg2rad(np.asarray(azimuth_deg, dtype=np.float64))
    sin_dec = np.sin(alt) * np.sin(lat) + np.cos(alt) * np.cos(lat) * np.cos(az)
    dec = np.arcsin(np.clip(sin_dec, -1.0, 1.0))
    ha = np.arctan2(-np.sin(az) * np.cos(alt), np.sin(alt) * np.cos(lat) - np.cos(alt) * np.sin(lat) * np.cos(az))
    return np.rad2deg(ha), np.rad2deg(dec)


def to_equatorial(site: Site, unix_time_s: ArrayLike, zenith_deg: ArrayLike,
                  azimuth_deg: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(RA, Dec) in degrees (ICRS) of showers seen at ``site`` at Unix times (s, UTC).

    Fast path for large samples: astropy's mean local sidereal time (vectorised), the
    exact spherical triangle from (altitude, azimuth) to (hour angle, declination) in
    the mean equator of date, then astropy's FK5 -> ICRS precession per calendar year.
    Neglects nutation, aberration and refraction (< 0.01 deg), far below an air-shower
    array's angular resolution; :func:`to_equatorial_exact` is the full transformation.
    """
    import warnings

    import astropy.units as u
    from astropy.coordinates import FK5, ICRS, SkyCoord
    from astropy.time import Time

    t_s = np.asarray(unix_time_s, dtype=np.float64)
    t = Time(t_s, format="unix", scale="utc")
    lst = local_sidereal_time_deg(site, t_s)
    ha_deg, dec_deg = hour_angle_declination(site, zenith_deg, azimuth_deg)
    dec = np.deg2rad(dec_deg)
    ra_date = np.mod(lst - ha_deg, 360.0)
    ra = np.empty_like(ra_date)
    dec_out = np.empty_like(ra_date)
    years = t.datetime64.astype("datetime64[Y]")
    for year in np.unique(years):
        sel = years == year
        equinox = Time(str(year) + "-07-01T00:00:00", scale="utc")
        c = SkyCoord(ra=ra_date[sel] * u.deg, dec=np.rad2deg(dec[sel]) * u.deg, frame=FK5(equinox=equinox))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            icrs = c.transform_to(ICRS())
        ra[sel], dec_out[sel] = icrs.ra.deg, icrs.dec.deg
    return ra, dec_out


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


@dataclass(frozen=True)
class HarmonicResult:
    """First harmonic in right ascension against the exposure from time scrambling:
    amplitude and phase of the excess over the scrambled expectation, its chance
    probability (Rayleigh form with the scrambles' variance) and Gaussian significance."""

    n_events: int
    n_scrambles: int
    amplitude: float
    phase_deg: float
    chance_probability: float
    significance_sigma: float
    amplitude_upper_limit_99: float
    exposure_amplitude: float  # first harmonic the exposure alone produces

    def as_dict(self) -> dict:
        return dict(vars(self))


def pd_codes(values: ArrayLike) -> NDArray:
    """Integer codes of arbitrary labels."""
    return np.unique(np.asarray(values).astype(str), return_inverse=True)[1]


def _harmonic(ra_rad: NDArray) -> tuple[float, float]:
    n = len(ra_rad)
    return 2.0 / n * float(np.sum(np.cos(ra_rad))), 2.0 / n * float(np.sum(np.sin(ra_rad)))


def _permute_within(groups: NDArray, rng: np.random.Generator) -> NDArray:
    """A permutation of 0..n-1 that only exchanges indices within the same group."""
    idx = np.arange(len(groups))
    out = idx.copy()
    for g in np.unique(groups):
        sel = idx[groups == g]
        out[sel] = sel[rng.permutation(len(sel))]
    return out


def scrambled_harmonic_test(lst_deg: ArrayLike, ha_deg: ArrayLike, n_scrambles: int = 200,
                            seed: int = 0, groups: ArrayLike | None = None) -> HarmonicResult:
    """First-harmonic test in right ascension with the exposure estimated by time
    scrambling: the events' local directions (hour angle) are kept and their sidereal
    times shuffled, which reproduces the sky coverage of an isotropic flux with the same
    on-time (short runs, day/night gaps) without a model of the detector. RA = LST - HA.
    ``groups`` (e.g. the experiment) keeps the shuffling within each group's own on-time."""
    lst = np.deg2rad(np.asarray(lst_deg, dtype=np.float64))
    ha = np.deg2rad(np.asarray(ha_deg, dtype=np.float64))
    rng = np.random.default_rng(seed)
    a0, b0 = _harmonic(lst - ha)
    g = np.zeros(len(lst), dtype=int) if groups is None else pd_codes(groups)
    scr = np.array([_harmonic(lst[_permute_within(g, rng)] - ha) for _ in range(n_scrambles)])
    ma, mb = scr.mean(axis=0)
    # variance of one harmonic component under the null, from the scrambles
    var = max(float(np.mean(np.var(scr, axis=0))), 1e-300)
    da, db = a0 - ma, b0 - mb
    r = float(np.hypot(da, db))
    p = float(np.exp(-r * r / (2 * var)))
    sigma = float(stats.norm.isf(p)) if p < 0.5 else 0.0
    ul = float(np.sqrt(-2 * var * np.log(0.01)) + r)
    return HarmonicResult(int(len(lst)), int(n_scrambles), r, float(np.rad2deg(np.arctan2(db, da)) % 360.0), p,
                          sigma, ul, float(np.hypot(ma, mb)))


def sky_map(ra_deg: ArrayLike, dec_deg: ArrayLike, nside_ra: int = 36, nside_dec: int = 18):
    """Counts in an (RA, Dec) grid: edges in degrees and the 2-D histogram (dec, ra)."""
    ra_edges = np.linspace(0.0, 360.0, nside_ra + 1)
    # equal-area bands in sin(Dec)
    dec_edges = np.rad2deg(np.arcsin(np.linspace(-1.0, 1.0, nside_dec + 1)))
    h, _, _ = np.histogram2d(np.asarray(dec_deg), np.asarray(ra_deg), bins=[dec_edges, ra_edges])
    return ra_edges, dec_edges, h


def relative_intensity(lst_deg: ArrayLike, ha_deg: ArrayLike, dec_deg: ArrayLike, nside_ra: int = 24,
                       nside_dec: int = 12, n_scrambles: int = 50, seed: int = 0):
    """Relative intensity per (RA, Dec) cell: counts over the time-scrambled expectation,
    and the naive significance (n - b) / sqrt(b). Cells the detector never sees get NaN.
    RA here is of the equator of date (LST - HA), the frame the scrambling works in."""
    lst = np.asarray(lst_deg, dtype=np.float64)
    ha = np.asarray(ha_deg, dtype=np.float64)
    dec = np.asarray(dec_deg, dtype=np.float64)
    ra_edges, dec_edges, h = sky_map(np.mod(lst - ha, 360.0), dec, nside_ra, nside_dec)
    rng = np.random.default_rng(seed)
    bg = np.zeros_like(h)
    for _ in range(n_scrambles):
        bg += sky_map(np.mod(lst[rng.permutation(len(lst))] - ha, 360.0), dec, nside_ra, nside_dec)[2]
    bg /= n_scrambles
    with np.errstate(invalid="ignore", divide="ignore"):
        ri = np.where(bg > 0, h / bg, np.nan)
        sig = np.where(bg > 0, (h - bg) / np.sqrt(bg), np.nan)
    return ra_edges, dec_edges, ri, sig


#: observation spans at least this long cover sidereal time uniformly (solar and sidereal
#: time decouple over a year)
UNIFORM_COVERAGE_DAYS = 365.0


def anisotropy_test(lst_deg: ArrayLike, ha_deg: ArrayLike, unix_time_s: ArrayLike,
                    groups: ArrayLike | None = None, n_scrambles: int = 200, seed: int = 0) -> dict:
    """The first-harmonic test suited to the data's sidereal coverage.

    Data taken over at least a year (:data:`UNIFORM_COVERAGE_DAYS`) in every group cover
    sidereal time uniformly: the classic Rayleigh test on RA is valid and keeps its full
    sensitivity (time scrambling would absorb part of a genuine RA dipole, since it takes
    the exposure from the events themselves). Shorter data (a few nights) cover RA
    unevenly: then the excess over the time-scrambled expectation is tested, which cannot
    mistake the coverage for anisotropy (at the price of sensitivity to broad dipoles).
    """
    lst = np.asarray(lst_deg, dtype=np.float64)
    ha = np.asarray(ha_deg, dtype=np.float64)
    t = np.asarray(unix_time_s, dtype=np.float64)
    g = np.zeros(len(lst), dtype=int) if groups is None else pd_codes(groups)
    spans = [float(np.ptp(t[g == k])) / 86400.0 for k in np.unique(g)]
    a, b = _harmonic(np.deg2rad(lst))
    if min(spans) >= UNIFORM_COVERAGE_DAYS:
        out = rayleigh_test(np.mod(lst - ha, 360.0)).as_dict()
        out.update(method="rayleigh (uniform sidereal coverage)")
    else:
        out = scrambled_harmonic_test(lst, ha, n_scrambles=n_scrambles, seed=seed, groups=g).as_dict()
        out.pop("n_scrambles")
        out.update(method=f"time-scrambled exposure ({n_scrambles} scrambles)")
    out.update(exposure_amplitude=float(np.hypot(a, b)), time_span_days=min(spans))
    return out
