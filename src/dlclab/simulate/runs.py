"""When the detectors took data: KASCADE runs and Tunka winter moonless nights.

Both simulators place event times as a Poisson process over these live periods.
Given the number of events ``n``, a homogeneous Poisson process over a set of
periods places the ``n`` times independently and uniformly on the concatenated live
time (the order statistics of the process given its count), which is what
:func:`place_times` does with exact integer nanoseconds.

KASCADE (DOMAIN.md): runs 877..7417 between Unix seconds 894638100 (1998-05-08, the
first ``Gt`` in KCDC) and 1358239243 (2013-01-15, the last). The individual run
boundaries are not public, so the run table is synthetic but fixed (its own seed, the
same for every simulation): 6541 runs of equal slots, each live for 60-95 % of its slot
(the rest: calibration, maintenance, dead time). First run starts at the first
``Gt``, last run ends at the last.

Tunka (TAIGA): the Cherenkov detectors run on clear moonless winter nights, about
October to April: Sun more than 18 deg below the horizon and the Moon below the
horizon. :func:`tunka_moonless_nights` computes those windows with astropy (offline,
built-in ephemeris) on a time grid.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dlclab.units import NS_PER_S

KASCADE_FIRST_RUN = 877
KASCADE_LAST_RUN = 7417
KASCADE_FIRST_GT_S = 894638100
KASCADE_LAST_GT_S = 1358239243
_RUN_TABLE_SEED = 877_7417


@lru_cache(maxsize=1)
def kascade_runs() -> pd.DataFrame:
    """The KASCADE run table: ``run``, ``start_s``, ``stop_s`` (Unix seconds, int64) and
    ``live_s`` (= stop - start). Synthetic but fixed (see the module docstring)."""
    runs = np.arange(KASCADE_FIRST_RUN, KASCADE_LAST_RUN + 1, dtype=np.int32)
    span = KASCADE_LAST_GT_S - KASCADE_FIRST_GT_S
    slot = span / len(runs)
    rng = np.random.default_rng(_RUN_TABLE_SEED)
    start = KASCADE_FIRST_GT_S + np.floor(np.arange(len(runs)) * slot).astype(np.int64)
    live = np.floor(slot * rng.uniform(0.60, 0.95, len(runs))).astype(np.int64)
    start[1:] += np.floor((slot - live[1:]) * rng.uniform(0, 1, len(runs) - 1)).astype(np.int64)
    # the last run ends exactly at the last Gt of KCDC
    start[-1] = KASCADE_LAST_GT_S - live[-1]
    return pd.DataFrame({"run": runs, "start_s": start, "stop_s": start + live, "live_s": live})


@dataclass(frozen=True)
class PlacedTimes:
    """Times placed on live periods: period index, Unix seconds and ns within the second."""

    period: NDArray[np.int64]
    unix_s: NDArray[np.int64]
    ns: NDArray[np.int64]
    #: live time that the ``fraction`` of the periods amounts to, s
    live_time_s: float


def place_times(start_s: NDArray[np.int64], live_s: NDArray[np.int64], n: int,
                rng: np.random.Generator) -> PlacedTimes:
    """``n`` event times of a homogeneous Poisson process over the periods
    ``[start_s, start_s + live_s)``, sorted in time, to the nanosecond."""
    start_s = np.asarray(start_s, dtype=np.int64)
    live_ns = np.asarray(live_s, dtype=np.int64) * NS_PER_S
    edges = np.concatenate([[0], np.cumsum(live_ns)])
    t = np.sort(rng.integers(0, edges[-1], size=n, dtype=np.int64))
    period = np.searchsorted(edges, t, side="right") - 1
    within = t - edges[period]
    return PlacedTimes(period=period, unix_s=start_s[period] + within // NS_PER_S,
                       ns=within % NS_PER_S, live_time_s=float(edges[-1]) / NS_PER_S)


def _unix(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()


@lru_cache(maxsize=8)
def tunka_moonless_nights(first_day: date, last_day: date, *, sun_alt_max_deg: float = -18.0,
                          moon_alt_max_deg: float = 0.0, step_s: int = 600,
                          winter_months: tuple[int, ...] = (10, 11, 12, 1, 2, 3, 4)) -> pd.DataFrame:
    """Dark windows at Tunka between two dates (inclusive): Sun below ``sun_alt_max_deg``
    and Moon below ``moon_alt_max_deg``, in the winter months only.

    Returns columns ``start_s``, ``stop_s``, ``live_s`` (Unix seconds, int64), one row per
    window, resolved to ``step_s``. Uses astropy's built-in ephemeris; no download.
    About 4 s for one winter season; cached (do not modify the returned frame).
    """
    from astropy import units as u
    from astropy.coordinates import AltAz, get_body, get_sun
    from astropy.time import Time
    from astropy.utils import iers

    from dlclab.instruments.sites import TUNKA

    iers.conf.auto_download = False  # no network: astropy's bundled tables suffice here
    iers.conf.auto_max_age = None
    t0, t1 = _unix(first_day), _unix(last_day) + 86400
    grid = np.arange(t0, t1, step_s, dtype=np.float64)
    months = pd.to_datetime(grid, unit="s").month.to_numpy()
    grid = grid[np.isin(months, winter_months)]
    if len(grid) == 0:
        return pd.DataFrame({"start_s": [], "stop_s": [], "live_s": []}, dtype=np.int64)
    # Sun and Moon altitudes change smoothly: compute them hourly (the costly part) and
    # interpolate onto the fine grid (error well below a degree).
    coarse = np.arange(grid[0] - 3600, grid[-1] + 7200, 3600, dtype=np.float64)
    times = Time(coarse, format="unix")
    frame = AltAz(obstime=times, location=TUNKA.earth_location())
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sun_alt = get_sun(times).transform_to(frame).alt.to_value(u.deg)
        moon_alt = get_body("moon", times, TUNKA.earth_location()).transform_to(frame).alt.to_value(u.deg)
    sun_alt = np.interp(grid, coarse, sun_alt)
    moon_alt = np.interp(grid, coarse, moon_alt)
    dark = (sun_alt < sun_alt_max_deg) & (moon_alt < moon_alt_max_deg)
    # contiguous runs of dark grid points (a gap in the grid also ends a window)
    idx = np.flatnonzero(dark)
    if len(idx) == 0:
        return pd.DataFrame({"start_s": [], "stop_s": [], "live_s": []}, dtype=np.int64)
    breaks = np.flatnonzero((np.diff(idx) != 1) | (np.diff(grid[idx]) != step_s)) + 1
    first = idx[np.concatenate([[0], breaks])]
    last = idx[np.concatenate([breaks - 1, [len(idx) - 1]])]
    start = grid[first].astype(np.int64)
    stop = grid[last].astype(np.int64) + step_s
    return pd.DataFrame({"start_s": start, "stop_s": stop, "live_s": stop - start})
