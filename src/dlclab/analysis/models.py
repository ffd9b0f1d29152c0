"""Spectral models and their maximum-likelihood fits (iminuit).

Energies in eV, differential fluxes in eV^-1 m^-2 s^-1 sr^-1 unless a name says
otherwise. Spectral indices are positive numbers (flux ~ E^-gamma).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Sharpness of the knee in the smoothly broken power law (fixed, as in the
#: KASCADE unfolding papers; larger = sharper).
KNEE_SHARPNESS = 4.0
#: Reference energy of the normalisation, eV (1 PeV).
REFERENCE_ENERGY_EV = 1e15


def broken_power_law(energy_eV: ArrayLike, lg_norm: float, lg_knee_eV: float,
                     gamma1: float, gamma2: float, sharpness: float = KNEE_SHARPNESS) -> NDArray[np.float64]:
    """Smoothly broken power law, eV^-1 m^-2 s^-1 sr^-1.

    ``10**lg_norm`` is the flux at 1 PeV of the low-energy branch; below the knee the
    index is ``gamma1``, above it ``gamma2``.
    """
    e = np.asarray(energy_eV, dtype=np.float64)
    x = e / 10.0 ** lg_knee_eV
    return (10.0 ** lg_norm) * (e / REFERENCE_ENERGY_EV) ** (-gamma1) * (
        1.0 + x ** sharpness) ** (-(gamma2 - gamma1) / sharpness)


def integrate_in_bins(flux, lg_edges: ArrayLike, points_per_bin: int = 8) -> NDArray[np.float64]:
    """Integral of ``flux(E)`` over each energy bin (edges in lg E/eV), per m^2 s sr.

    Integrates in lg E (dN = flux E ln10 dlgE) with Simpson-like Gauss-Legendre nodes,
    exact enough for power laws over 0.05-0.2 decade bins.
    """
    edges = np.asarray(lg_edges, dtype=np.float64)
    nodes, weights = np.polynomial.legendre.leggauss(points_per_bin)
    lo, hi = edges[:-1, None], edges[1:, None]
    lg_e = 0.5 * (hi - lo) * nodes[None, :] + 0.5 * (hi + lo)
    e = 10.0 ** lg_e
    integrand = flux(e) * e * np.log(10.0)
    return (integrand * weights[None, :]).sum(axis=1) * 0.5 * (hi - lo)[:, 0]


@dataclass
class FitParameter:
    """A fitted value with its symmetric (HESSE) error and unit."""

    value: float
    error: float
    unit: str


@dataclass
class KneeFit:
    """Result of a knee fit: parameters, their errors and the fit quality."""

    lg_norm: FitParameter
    lg_knee_eV: FitParameter
    gamma1: FitParameter
    gamma2: FitParameter
    statistic: float
    ndof: int
    valid: bool
    covariance: NDArray[np.float64] = field(repr=False)

    @property
    def knee_energy_eV(self) -> FitParameter:
        """Knee energy in eV with its error propagated from lg E_knee."""
        v = 10.0 ** self.lg_knee_eV.value
        return FitParameter(v, v * np.log(10.0) * self.lg_knee_eV.error, "eV")

    def flux(self, energy_eV: ArrayLike) -> NDArray[np.float64]:
        """The fitted model, eV^-1 m^-2 s^-1 sr^-1."""
        return broken_power_law(energy_eV, self.lg_norm.value, self.lg_knee_eV.value,
                                self.gamma1.value, self.gamma2.value)

    def as_dict(self) -> dict:
        """JSON-ready: each parameter as {value, error, unit}."""
        out = {name: vars(getattr(self, name)) for name in ("lg_norm", "lg_knee_eV", "gamma1", "gamma2")}
        out["knee_energy_eV"] = vars(self.knee_energy_eV)
        out["lg_norm"]["unit"] = "lg(eV^-1 m^-2 s^-1 sr^-1) at 1 PeV"
        out["fit_statistic"] = {"value": self.statistic, "unit": "", "ndof": self.ndof}
        out["valid"] = self.valid
        return {k: ({kk: _plain(vv) for kk, vv in v.items()} if isinstance(v, dict) else v)
                for k, v in out.items()}


def _plain(v):
    return float(v) if isinstance(v, (np.floating, float)) else v


def fit_knee(expected_counts, observed: ArrayLike, start: dict | None = None,
             limits: dict | None = None, fixed: tuple[str, ...] = ()) -> KneeFit:
    """Poisson maximum-likelihood fit of a knee model (Cash statistic, iminuit MIGRAD+HESSE).

    ``expected_counts(lg_norm, lg_knee_eV, gamma1, gamma2)`` returns the model's expected
    counts in the same bins as ``observed`` (forward folding puts the detector response
    into that function). The statistic reported is the Poisson deviance, which is
    chi-square distributed for enough counts per bin. ``fixed`` names parameters kept at
    their start value (a plain power law: fix ``lg_knee_eV`` above the range and ``gamma2``).
    """
    from iminuit import Minuit

    n = np.asarray(observed, dtype=np.float64)

    def deviance(lg_norm, lg_knee_eV, gamma1, gamma2):
        mu = np.clip(expected_counts(lg_norm, lg_knee_eV, gamma1, gamma2), 1e-300, None)
        ratio = np.divide(n, mu, out=np.ones_like(n), where=n > 0)
        term = n * np.log(ratio)
        return float(2.0 * np.sum(mu - n + term))

    p0 = {"lg_norm": -24.0, "lg_knee_eV": 15.6, "gamma1": 2.7, "gamma2": 3.1}
    p0.update(start or {})
    m = Minuit(deviance, **p0)
    m.errordef = Minuit.LIKELIHOOD * 2  # deviance = 2 * negative log-likelihood
    lim = {"lg_norm": (p0["lg_norm"] - 6.0, p0["lg_norm"] + 6.0), "lg_knee_eV": (14.5, 17.5),
           "gamma1": (1.5, 4.5), "gamma2": (1.5, 5.5)}
    lim.update(limits or {})
    for name, bounds in lim.items():
        m.limits[name] = bounds
    # the norm is degenerate with the knee for a first pass: scan it alone first
    m.fixed["lg_knee_eV"] = m.fixed["gamma1"] = m.fixed["gamma2"] = True
    m.migrad()
    for name in ("lg_knee_eV", "gamma1", "gamma2"):
        m.fixed[name] = name in fixed
    m.migrad(ncall=20000)
    m.hesse()
    units = {"lg_norm": "lg(eV^-1 m^-2 s^-1 sr^-1)", "lg_knee_eV": "lg(E/eV)", "gamma1": "", "gamma2": ""}
    pars = {k: FitParameter(float(m.values[k]), float(m.errors[k]), units[k]) for k in units}
    nonzero = int(np.count_nonzero(n >= 0))
    return KneeFit(**pars, statistic=float(m.fval), ndof=nonzero - 4 + len(fixed), valid=bool(m.valid),
                   covariance=np.array(m.covariance))
