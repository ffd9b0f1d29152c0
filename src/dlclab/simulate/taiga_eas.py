"""Extensive air showers over the Tunka valley: primaries, arrival times, shower physics.

Shared by the Tunka-133, Tunka-Rex, Tunka-Grande and TAIGA-HiSCORE simulators, so that
the three detectors read out together (Tunka-133, -Rex, -Grande) see the *same* showers.

Conventions (see ``dlclab.instruments.taiga``): array frame x east, y north, z up (m);
``azimuth_deg`` is the direction the shower comes from, measured from north towards
east; times are UTC, ``time_ns`` is ns since the start of the UTC day (the TAIGA DAQ
convention), ``unix_time_ns`` the absolute time. A night's files go into the folder of
the UTC date on which the night starts (Tunka nights, 20-06 h local = 12-22 h UTC, do
not cross midnight UTC).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from dlclab.simulate.primaries import PrimaryFlux, isotropic_directions
from dlclab.units import NS_PER_DAY, NS_PER_S

C_LIGHT_M_PER_NS = 0.299792458
#: vertical atmospheric depth at the Tunka valley (675 m a.s.l.), g cm^-2
TUNKA_DEPTH_G_CM2 = 960.0
#: geomagnetic field at Tunka (IGRF, rounded): inclination 72 deg, declination -2 deg
GEOMAGNETIC_INCLINATION_DEG = 72.0
GEOMAGNETIC_DECLINATION_DEG = -2.0
#: radius of curvature of the shower front, m (arrival delay R^2 / (2 c R_c))
FRONT_CURVATURE_RADIUS_M = 8000.0


@dataclass(frozen=True)
class Night:
    """One observation window: UTC date of its start, start as ns of that day, length."""

    date: dt.date
    start_ns_of_day: int
    duration_s: float

    @property
    def run(self) -> int:
        """Run number of the night: its date as YYYYMMDD."""
        return int(self.date.strftime("%Y%m%d"))

    def unix_start_ns(self) -> int:
        midnight = dt.datetime.combine(self.date, dt.time(), tzinfo=dt.timezone.utc)
        return int(midnight.timestamp()) * NS_PER_S + int(self.start_ns_of_day)


def tunka_nights(n: int, first: dt.date = dt.date(2013, 1, 5)) -> list[Night]:
    """The first ``n`` winter moonless nights at Tunka from ``first`` on.

    The dark windows come from the lab's shared calendar
    (:func:`dlclab.simulate.runs.tunka_moonless_nights`: Sun below -18 deg, Moon below the
    horizon, October-April); of each UTC date the longest window of at least one hour is
    the night (the Moon can split a night; the shorter part is dropped). Windows end at
    midnight UTC at the latest, so that ``time_ns`` of a night's events is monotonic.
    """
    from dlclab.simulate.runs import tunka_moonless_nights

    span = max(2 * n + 3, 7)
    for _ in range(8):
        windows = tunka_moonless_nights(first, first + dt.timedelta(days=span))
        nights = _longest_window_per_date(windows)
        if len(nights) >= n:
            return nights[:n]
        span *= 3
    raise ValueError(f"fewer than {n} moonless nights at Tunka after {first}")


def _longest_window_per_date(windows) -> list[Night]:
    best: dict[dt.date, Night] = {}
    for start_s, stop_s in zip(windows["start_s"].to_numpy(), windows["stop_s"].to_numpy()):
        start = dt.datetime.fromtimestamp(int(start_s), dt.timezone.utc)
        day = start.date()
        midnight_s = int(dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc).timestamp())
        stop_s = min(int(stop_s), midnight_s + 86_400)
        duration = float(stop_s - int(start_s))
        if duration < 3600:
            continue
        night = Night(day, (int(start_s) - midnight_s) * NS_PER_S, duration)
        if day not in best or duration > best[day].duration_s:
            best[day] = night
    return [best[d] for d in sorted(best)]


@dataclass
class Showers:
    """Simulated air showers with their truth. All arrays have one entry per shower."""

    energy_eV: NDArray[np.float64]
    zenith_deg: NDArray[np.float64]
    azimuth_deg: NDArray[np.float64]
    core_x_m: NDArray[np.float64]
    core_y_m: NDArray[np.float64]
    corsika_id: NDArray[np.int32]
    mass_number: NDArray[np.int16]
    xmax_g_cm2: NDArray[np.float64]
    night: NDArray[np.int32]           # index into ``nights``
    time_ns: NDArray[np.int64]         # arrival of the core at the ground, ns of the UTC day
    nights: list[Night]
    exposure: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.energy_eV)

    @property
    def axis(self) -> NDArray[np.float64]:
        """(n, 3) unit vectors from the ground towards where the shower comes from."""
        z = np.deg2rad(self.zenith_deg)
        a = np.deg2rad(self.azimuth_deg)
        return np.column_stack([np.sin(z) * np.sin(a), np.sin(z) * np.cos(a), np.cos(z)])

    def unix_time_ns(self) -> NDArray[np.int64]:
        starts = np.array([n.unix_start_ns() - n.start_ns_of_day for n in self.nights], dtype=np.int64)
        return starts[self.night] + self.time_ns


def xmax_g_cm2(energy_eV: NDArray[np.float64], mass_number: NDArray[np.int16],
               rng: np.random.Generator) -> NDArray[np.float64]:
    """Depth of the shower maximum: 690 g/cm^2 for protons at 1e16 eV, elongation rate
    58 g/cm^2 per decade, superposition (E -> E/A) for nuclei, Gaussian fluctuations
    of 60 A^-0.3 g/cm^2 (simplified from CORSIKA/QGSJet predictions)."""
    lg_e = np.log10(energy_eV)
    lg_a = np.log10(mass_number.astype(np.float64))
    mean = 690.0 + 58.0 * (lg_e - 16.0 - lg_a)
    sigma = 60.0 * mass_number.astype(np.float64) ** -0.3
    return mean + sigma * rng.standard_normal(len(lg_e))


def required_live_time_s(n: int, flux: PrimaryFlux, area_m2: float, zenith_max_deg: float) -> float:
    """Live time in which ``n`` primaries of ``flux`` hit ``area_m2`` on average, s."""
    omega_proj_sr = np.pi * np.sin(np.deg2rad(zenith_max_deg)) ** 2
    return n / (flux.integral_rate_per_m2_s_sr() * area_m2 * omega_proj_sr)


def throw_showers(n: int, rng: np.random.Generator, *, energy_min_eV: float, energy_max_eV: float,
                  zenith_max_deg: float, throw_centre_m: tuple[float, float],
                  throw_radius_m: float, nights: list[Night],
                  flux: PrimaryFlux | None = None) -> Showers:
    """Draw ``n`` showers from H3a with isotropic directions and cores uniform on a disc.

    The live time is the one in which ``n`` showers hit the disc on average:
    ``T = n / (I * A * pi sin^2 zmax)``, with ``I`` the integral H3a flux in the energy
    range (m^-2 s^-1 sr^-1) and ``pi sin^2 zmax`` the projected solid angle of a flat
    detector. Every night is live for the same fraction ``T / sum(dark time)`` of its
    dark time, from its start on; given the count, Poisson arrival times are uniform on
    those windows (order statistics). More live time than the nights hold is an error.
    """
    flux = flux or PrimaryFlux(energy_min_eV, energy_max_eV)
    prim = flux.sample(n, rng)
    zen, az = isotropic_directions(n, zenith_max_deg, rng)
    r = throw_radius_m * np.sqrt(rng.random(n))
    phi = rng.uniform(0, 2 * np.pi, n)
    core_x = throw_centre_m[0] + r * np.cos(phi)
    core_y = throw_centre_m[1] + r * np.sin(phi)
    xmax = xmax_g_cm2(prim.energy_eV, prim.mass_number, rng)

    area_m2 = np.pi * throw_radius_m ** 2
    omega_proj_sr = np.pi * np.sin(np.deg2rad(zenith_max_deg)) ** 2
    live_time_s = required_live_time_s(n, flux, area_m2, zenith_max_deg)
    durations = np.array([nt.duration_s for nt in nights])
    if live_time_s > durations.sum():
        raise ValueError(
            f"{n} showers need {live_time_s:.0f} s of live time, more than the {len(nights)} "
            f"nights hold ({durations.sum():.0f} s): pass more nights")
    # each night is live for the same fraction of its dark time, from its start on
    windows_s = durations * (live_time_s / durations.sum())
    edges = np.concatenate([[0.0], np.cumsum(windows_s)])
    t = rng.uniform(0.0, edges[-1], n)
    night_idx = (np.searchsorted(edges, t, side="right") - 1).clip(0, len(nights) - 1).astype(np.int32)
    starts = np.array([nt.start_ns_of_day for nt in nights], dtype=np.int64)
    time_ns = starts[night_idx] + ((t - edges[night_idx]) * NS_PER_S).astype(np.int64)
    order = np.lexsort((time_ns, night_idx))
    time_ns, night_idx = time_ns[order], night_idx[order]
    if np.any(time_ns >= NS_PER_DAY):
        raise ValueError("a night window crosses midnight UTC; shorten it")

    exposure = {
        "area_m2": float(area_m2),
        "throw_centre_m": [float(throw_centre_m[0]), float(throw_centre_m[1])],
        "throw_radius_m": float(throw_radius_m),
        "live_time_s": float(live_time_s),
        "zenith_min_deg": 0.0,
        "zenith_max_deg": float(zenith_max_deg),
        "solid_angle_sr": float(2 * np.pi * (1 - np.cos(np.deg2rad(zenith_max_deg)))),
        "projected_solid_angle_sr": float(omega_proj_sr),
        "energy_min_eV": float(energy_min_eV),
        "energy_max_eV": float(energy_max_eV),
        "flux_model": flux.model_name,
        "integral_flux_m2_s_sr": flux.integral_rate_per_m2_s_sr(),
        "n_thrown": int(n),
        "nights": [{"date": nt.date.isoformat(), "run": nt.run,
                    "start_ns_of_day": int(nt.start_ns_of_day),
                    "live_time_s": float(w)} for nt, w in zip(nights, windows_s)],
    }
    return Showers(energy_eV=prim.energy_eV[order], zenith_deg=zen[order], azimuth_deg=az[order],
                   core_x_m=core_x[order], core_y_m=core_y[order],
                   corsika_id=prim.corsika_id[order], mass_number=prim.mass_number[order],
                   xmax_g_cm2=xmax[order], night=night_idx, time_ns=time_ns, nights=list(nights),
                   exposure=exposure)


def shower_geometry(showers: Showers, points_m: NDArray[np.float64],
                    index: NDArray[np.int64] | None = None,
                    per_shower: bool = False) -> tuple[NDArray, NDArray]:
    """Distance from the shower axis (m) and arrival-time delay relative to the core
    (ns, plane front plus curvature R^2/(2 c R_c)) of ``points_m`` (..., 2) on the ground,
    for the showers ``index`` (default all); result shape (n_showers, ...).
    With ``per_shower``, ``points_m`` is (n_showers, ..., 2): own points per shower."""
    idx = np.arange(len(showers)) if index is None else index
    u = showers.axis[idx]
    pts = np.asarray(points_m, dtype=np.float64)
    if per_shower:
        shape = pts.shape[1:-1]
        flat = pts.reshape(len(idx), -1, 2)
        dx = flat[:, :, 0] - showers.core_x_m[idx, None]
        dy = flat[:, :, 1] - showers.core_y_m[idx, None]
    else:
        shape = pts.shape[:-1]
        flat = pts.reshape(-1, 2)
        dx = flat[None, :, 0] - showers.core_x_m[idx, None]
        dy = flat[None, :, 1] - showers.core_y_m[idx, None]
    along = dx * u[:, 0:1] + dy * u[:, 1:2]          # projection on the axis (z = 0)
    r2 = np.maximum(dx * dx + dy * dy - along * along, 0.0)
    r = np.sqrt(r2)
    delay = -along / C_LIGHT_M_PER_NS + r2 / (2 * C_LIGHT_M_PER_NS * FRONT_CURVATURE_RADIUS_M)
    return r.reshape((len(idx),) + shape), delay.reshape((len(idx),) + shape)


# ------------------------------------------------------------------ Cherenkov light
#: Q(175 m) in photons cm^-2 eV^-1 at 1e16 eV, and the Tunka energy relation exponent:
#: E = A * Q175^g with g = 0.94 (Prosin et al. 2014), i.e. Q175 ~ E^(1/0.94)
Q175_AT_1E16 = 0.5
Q175_ENERGY_EXPONENT_G = 0.94
LDF_KNEE_M = 120.0


def q175_from_energy(energy_eV: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cherenkov light density at 175 m from the axis, photons cm^-2 eV^-1."""
    return Q175_AT_1E16 * (np.asarray(energy_eV) / 1e16) ** (1.0 / Q175_ENERGY_EXPONENT_G)


def energy_from_q175(q175: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverse of :func:`q175_from_energy`: E = 1e16 eV * (Q175 / Q175(1e16))^0.94."""
    return 1e16 * (np.asarray(q175) / Q175_AT_1E16) ** Q175_ENERGY_EXPONENT_G


def distance_to_xmax_g_cm2(showers: Showers) -> NDArray[np.float64]:
    """Slant depth between the shower maximum and the ground, g cm^-2 (at least 50)."""
    return np.maximum(TUNKA_DEPTH_G_CM2 / np.cos(np.deg2rad(showers.zenith_deg))
                      - showers.xmax_g_cm2, 50.0)


def cherenkov_ldf(r_m: NDArray[np.float64], q175: NDArray[np.float64],
                  dx_g_cm2: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cherenkov light density Q(R) in photons cm^-2 eV^-1 (simplified Tunka LDF).

    Q(R) = Q_k exp((R_k - R)/R_0)           R <  R_k = 120 m
    Q(R) = Q_k (R_k/R)^2.2                  R_k <= R < 200 m
    Q(R) = Q(200) (200/R)^2.2 exp(-(R - 200)/700 m)   R >= 200 m
    with Q_k = Q175 (175/120)^2.2 and the core slope R_0 = 30 + 0.15 (dX - 150) m
    (clipped to 30..200 m): showers with the maximum closer to the ground (small dX)
    have steeper cores, as the Tunka steepness P = Q(100)/Q(200) measures.
    ``q175`` and ``dx_g_cm2`` broadcast against ``r_m`` along the first axis.
    """
    r = np.maximum(np.asarray(r_m, dtype=np.float64), 1.0)
    extra = (1,) * (r.ndim - 1)
    q175 = np.asarray(q175, dtype=np.float64).reshape((-1,) + extra)
    r0 = np.clip(30.0 + 0.15 * (np.asarray(dx_g_cm2).reshape((-1,) + extra) - 150.0), 30.0, 200.0)
    qk = q175 * (175.0 / LDF_KNEE_M) ** 2.2
    inner = qk * np.exp((LDF_KNEE_M - r) / r0)
    middle = qk * (LDF_KNEE_M / r) ** 2.2
    outer = qk * (LDF_KNEE_M / r) ** 2.2 * np.exp(-(r - 200.0) / 700.0)
    return np.where(r < LDF_KNEE_M, inner, np.where(r < 200.0, middle, outer))


def cherenkov_pulse_fwhm_ns(r_m: NDArray[np.float64], dx_g_cm2: NDArray[np.float64]) -> NDArray[np.float64]:
    """FWHM of the Cherenkov pulse at distance R: 12 ns near the axis, growing as R^2 and
    faster for showers with a near maximum (the Tunka tau(400) Xmax method), ns."""
    extra = (1,) * (np.ndim(r_m) - 1)
    dx = np.asarray(dx_g_cm2, dtype=np.float64).reshape((-1,) + extra)
    return np.clip(12.0 + 25.0 * (np.asarray(r_m) / 400.0) ** 2 * np.sqrt(400.0 / dx), 12.0, 300.0)


def pulse_shape(t_ns: NDArray[np.float64], t0_ns: NDArray[np.float64],
                fwhm_ns: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit-peak pulse: Gaussian rise (sigma = 0.3 FWHM) and exponential tail (0.8 FWHM)."""
    dt_ = t_ns - t0_ns
    sig = 0.3 * fwhm_ns
    tau = 0.8 * fwhm_ns
    return np.where(dt_ < 0, np.exp(-0.5 * (dt_ / sig) ** 2), np.exp(-dt_ / tau))


def pulse_area_samples(fwhm_ns: NDArray[np.float64], sample_ns: float) -> NDArray[np.float64]:
    """Integral of :func:`pulse_shape` in units of samples (to turn charge into a peak)."""
    return (0.3 * fwhm_ns * np.sqrt(np.pi / 2) + 0.8 * fwhm_ns) / sample_ns


# ------------------------------------------------------------------ particles
def electron_number(energy_eV: NDArray[np.float64], zenith_deg: NDArray[np.float64],
                    mass_number: NDArray[np.int16]) -> NDArray[np.float64]:
    """Ne at the ground: QGSJet vertical parametrisation (DOMAIN.md) lg Ne = -2.8908 +
    1.22251 lg(E/GeV), fewer electrons for heavy nuclei (A^-0.15) and attenuation
    exp(-(X/cos z - X)/175 g cm^-2) with zenith."""
    lg_e = np.log10(np.asarray(energy_eV) / 1e9)
    ne = 10 ** (-2.89080 + 1.22251 * lg_e) * mass_number.astype(np.float64) ** -0.15
    extra = TUNKA_DEPTH_G_CM2 * (1 / np.cos(np.deg2rad(zenith_deg)) - 1)
    return ne * np.exp(-extra / 175.0)


def muon_number(energy_eV: NDArray[np.float64], mass_number: NDArray[np.int16]) -> NDArray[np.float64]:
    """Nmu (E_mu > ~1 GeV): lg Nmu = -1.88274 + 0.908129 lg(E/GeV), times A^0.1."""
    lg_e = np.log10(np.asarray(energy_eV) / 1e9)
    return 10 ** (-1.88274 + 0.908129 * lg_e) * mass_number.astype(np.float64) ** 0.1


def nkg_density_m2(r_m: NDArray[np.float64], n_e: NDArray[np.float64], age: float = 1.3,
                   moliere_m: float = 100.0) -> NDArray[np.float64]:
    """NKG electron density, m^-2 (Moliere radius 100 m at 675 m a.s.l.)."""
    from scipy.special import gamma

    s = age
    c = gamma(4.5 - s) / (2 * np.pi * gamma(s) * gamma(4.5 - 2 * s))
    x = np.maximum(np.asarray(r_m), 1.0) / moliere_m
    extra = (1,) * (x.ndim - 1)
    ne = np.asarray(n_e).reshape((-1,) + extra)
    return ne * c / moliere_m ** 2 * x ** (s - 2) * (1 + x) ** (s - 4.5)


def greisen_muon_density_m2(r_m: NDArray[np.float64], n_mu: NDArray[np.float64],
                            r0_m: float = 320.0) -> NDArray[np.float64]:
    """Greisen muon density rho = Nmu k r^-0.75 (1 + r/r0)^-2.5, m^-2, normalised to Nmu."""
    from scipy.integrate import quad

    norm = quad(lambda r: 2 * np.pi * r * (r / r0_m) ** -0.75 * (1 + r / r0_m) ** -2.5, 0, 5000)[0]
    x = np.maximum(np.asarray(r_m), 1.0) / r0_m
    extra = (1,) * (x.ndim - 1)
    nmu = np.asarray(n_mu).reshape((-1,) + extra)
    return nmu / norm * x ** -0.75 * (1 + x) ** -2.5
