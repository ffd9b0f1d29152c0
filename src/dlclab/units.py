"""Unit conversions of the lab. Each conversion lives here and nowhere else.

Internal convention: energies in eV, angles in degrees, lengths in metres,
times in ns (within a day or second, as the column name says), fluxes in
GeV^-1 m^-2 s^-1 sr^-1 (the unit KCDC and the literature quote).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

EV_PER_GEV = 1e9
EV_PER_PEV = 1e15
NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S


def eV_to_GeV(energy_eV: ArrayLike) -> NDArray[np.float64]:
    """Energy in eV -> GeV."""
    return np.asarray(energy_eV, dtype=np.float64) / EV_PER_GEV


def GeV_to_eV(energy_GeV: ArrayLike) -> NDArray[np.float64]:
    """Energy in GeV -> eV."""
    return np.asarray(energy_GeV, dtype=np.float64) * EV_PER_GEV


def lg(x: ArrayLike) -> NDArray[np.float64]:
    """Decimal logarithm, the form KCDC stores E, Ne and Nmu in."""
    return np.log10(np.asarray(x, dtype=np.float64))


def unlg(lg_x: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`lg`."""
    return np.power(10.0, np.asarray(lg_x, dtype=np.float64))


def deg_to_rad(angle_deg: ArrayLike) -> NDArray[np.float64]:
    """Degrees -> radians."""
    return np.deg2rad(np.asarray(angle_deg, dtype=np.float64))


def rad_to_deg(angle_rad: ArrayLike) -> NDArray[np.float64]:
    """Radians -> degrees."""
    return np.rad2deg(np.asarray(angle_rad, dtype=np.float64))


def solid_angle_sr(zenith_max_deg: float, zenith_min_deg: float = 0.0) -> float:
    """Solid angle of a zenith band, 2 pi (cos zmin - cos zmax), in sr."""
    return float(2 * np.pi * (np.cos(np.deg2rad(zenith_min_deg)) - np.cos(np.deg2rad(zenith_max_deg))))


def flux_per_eV_to_per_GeV(flux_per_eV: ArrayLike) -> NDArray[np.float64]:
    """Differential flux per eV -> per GeV (same area, time and solid-angle units)."""
    return np.asarray(flux_per_eV, dtype=np.float64) * EV_PER_GEV


def ns_of_day(hours: ArrayLike, minutes: ArrayLike, seconds: ArrayLike, ns: ArrayLike) -> NDArray[np.int64]:
    """Wall-clock parts -> ns since the start of the day (int64)."""
    h = np.asarray(hours, dtype=np.int64)
    m = np.asarray(minutes, dtype=np.int64)
    s = np.asarray(seconds, dtype=np.int64)
    return ((h * 60 + m) * 60 + s) * NS_PER_S + np.asarray(ns, dtype=np.int64)


def format_ns_of_day(ns: int) -> str:
    """ns since the start of the day -> ``HH:MM:SS.mmm`` (truncated to ms)."""
    ns = int(ns)
    ms_total = ns // 1_000_000
    h, rem = divmod(ms_total, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
