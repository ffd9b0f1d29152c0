"""Energy estimators calibrated on simulation truth (never hard-coded coefficients).

KASCADE: lg E = p0 + p1 lg Ne + p2 lg Nmu + p3 (sec Ze - 1), a linear least-squares fit
of the true energy on simulated, reconstructed showers. The zenith term absorbs the
atmospheric attenuation of the sizes; mixing Ne and Nmu makes the estimator nearly
independent of the primary mass (the classic KASCADE approach).

Tunka-133: lg E = q0 + q1 lg Q_R (Cherenkov density at a fixed core distance R), fitted
on the simulation truth the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dlclab.errors import ParameterError


@dataclass(frozen=True)
class LinearEnergyCalibration:
    """lg(E/eV) = coefficients . features; ``features`` names each column."""

    features: tuple[str, ...]
    coefficients: tuple[float, ...]
    resolution_lg: float  # rms of lg(E_reco/E_true) on the calibration sample
    bias_lg: float  # mean of lg(E_reco/E_true) on the calibration sample
    n_events: int

    def as_dict(self) -> dict:
        return {"features": list(self.features), "coefficients": list(self.coefficients),
                "resolution_lg": self.resolution_lg, "bias_lg": self.bias_lg, "n_events": self.n_events,
                "unit": "lg(E/eV)"}


def _kascade_design(lg_ne: ArrayLike, lg_nmu: ArrayLike, zenith_deg: ArrayLike) -> NDArray[np.float64]:
    lg_ne = np.asarray(lg_ne, dtype=np.float64)
    sec_minus_1 = 1.0 / np.cos(np.deg2rad(np.asarray(zenith_deg, dtype=np.float64))) - 1.0
    return np.column_stack([np.ones_like(lg_ne), lg_ne, np.asarray(lg_nmu, dtype=np.float64), sec_minus_1])


KASCADE_FEATURES = ("1", "lg Ne", "lg Nmu", "sec Ze - 1")


def fit_kascade_calibration(lg_ne: ArrayLike, lg_nmu: ArrayLike, zenith_deg: ArrayLike,
                            true_energy_eV: ArrayLike) -> LinearEnergyCalibration:
    """Least-squares fit of lg E_true on (lg Ne, lg Nmu, sec Ze - 1)."""
    x = _kascade_design(lg_ne, lg_nmu, zenith_deg)
    y = np.log10(np.asarray(true_energy_eV, dtype=np.float64))
    ok = np.all(np.isfinite(x), axis=1) & np.isfinite(y)
    if ok.sum() < 20:
        raise ParameterError(
            f"energy calibration needs at least 20 simulated events with finite Ne, Nmu, Ze; got {int(ok.sum())}")
    coef, *_ = np.linalg.lstsq(x[ok], y[ok], rcond=None)
    resid = x[ok] @ coef - y[ok]
    return LinearEnergyCalibration(KASCADE_FEATURES, tuple(float(c) for c in coef),
                                   float(np.std(resid)), float(np.mean(resid)), int(ok.sum()))


def apply_kascade_calibration(cal: LinearEnergyCalibration, lg_ne: ArrayLike, lg_nmu: ArrayLike,
                              zenith_deg: ArrayLike) -> NDArray[np.float64]:
    """Reconstructed lg(E/eV) from the shower sizes."""
    return _kascade_design(lg_ne, lg_nmu, zenith_deg) @ np.asarray(cal.coefficients)


def fit_power_calibration(lg_observable: ArrayLike, true_energy_eV: ArrayLike,
                          name: str = "lg Q", min_energy_eV: float | None = None) -> LinearEnergyCalibration:
    """lg E = q0 + q1 lg(observable): Tunka-133's E ~ Q_R^q1, fitted on truth.

    Fitted the physical way round, lg Q = a + b lg E_true (the observable as a function
    of energy), on showers above ``min_energy_eV`` where the array is fully efficient,
    then inverted (q1 = 1/b). Regressing lg E on lg Q instead would pull every energy
    towards the threshold-dominated mean of the sample (regression dilution) and
    compress the spectrum.
    """
    xo = np.asarray(lg_observable, dtype=np.float64)
    y = np.log10(np.asarray(true_energy_eV, dtype=np.float64))
    ok = np.isfinite(xo) & np.isfinite(y)
    if min_energy_eV:
        ok &= y >= np.log10(min_energy_eV)
    if ok.sum() < 10:
        raise ParameterError(f"energy calibration needs at least 10 simulated events with finite {name}"
                             f"{' above %.3g eV' % min_energy_eV if min_energy_eV else ''}; got {int(ok.sum())}")
    design = np.column_stack([np.ones(ok.sum()), y[ok]])
    (a, b), *_ = np.linalg.lstsq(design, xo[ok], rcond=None)
    if b <= 0:
        raise ParameterError(f"{name} does not rise with the true energy (slope {b:.3g}); cannot calibrate")
    coef = (-a / b, 1.0 / b)
    resid = coef[0] + coef[1] * xo[ok] - y[ok]
    return LinearEnergyCalibration(("1", name), tuple(float(c) for c in coef),
                                   float(np.std(resid)), float(np.mean(resid)), int(ok.sum()))


def apply_power_calibration(cal: LinearEnergyCalibration, lg_observable: ArrayLike) -> NDArray[np.float64]:
    xo = np.asarray(lg_observable, dtype=np.float64)
    return cal.coefficients[0] + cal.coefficients[1] * xo
