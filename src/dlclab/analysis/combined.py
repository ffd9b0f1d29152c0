"""Combining two experiments' spectra: energy-scale cross-calibration in the overlap and
a fit of the joint spectrum with two breaks (knee and second knee).

Flux tables are those written by the spectrum analyses: ``energy_eV``,
``flux_per_GeV_m2_s_sr`` and its ``_stat_err_``/``_syst_err_`` columns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FLUX = "flux_per_GeV_m2_s_sr"
STAT = "flux_stat_err_per_GeV_m2_s_sr"
SYST = "flux_syst_err_per_GeV_m2_s_sr"


def scale_energy(table: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Energies times ``factor``: dN/dE keeps the counts, so the flux is divided by it."""
    out = table.copy()
    out["energy_eV"] = out["energy_eV"] * factor
    for c in (FLUX, STAT, SYST):
        if c in out:
            out[c] = out[c] / factor
    return out


@dataclass(frozen=True)
class CrossCalibration:
    factor: float
    factor_error: float
    n_points: int
    chi2: float
    overlap_eV: tuple[float, float]

    def as_dict(self) -> dict:
        return {"energy_scale_factor": {"value": self.factor, "error": self.factor_error, "unit": ""},
                "n_points": self.n_points, "chi2": self.chi2,
                "overlap_low_eV": self.overlap_eV[0], "overlap_high_eV": self.overlap_eV[1]}


def cross_calibrate(reference: pd.DataFrame, other: pd.DataFrame, overlap_eV: tuple[float, float],
                    min_counts: int = 3) -> CrossCalibration:
    """Energy-scale factor ``s`` for ``other`` (E -> s E) that best matches the reference
    flux in the overlap (chi-square on log flux, reference interpolated in log-log).
    Only points with at least ``min_counts`` events take part (a single event's flux
    point has no usable error in log space)."""
    from iminuit import Minuit

    ref = reference[(reference[FLUX] > 0) & (reference["counts"] >= min_counts)].sort_values("energy_eV")
    oth = other[(other[FLUX] > 0) & (other["counts"] >= min_counts)]
    lg_ref_e = np.log10(ref["energy_eV"].to_numpy())
    lg_ref_f = np.log10(ref[FLUX].to_numpy())
    rel_ref = (ref[STAT] / ref[FLUX]).to_numpy()

    # the points compared are fixed (those in the overlap before scaling): a selection
    # that moved with the scale would make the chi-square jump and stall the minimiser
    e0 = oth["energy_eV"].to_numpy()
    sel = (e0 >= overlap_eV[0]) & (e0 <= overlap_eV[1])
    if sel.sum() == 0:
        from dlclab.errors import ParameterError
        raise ParameterError(f"no flux point of the second experiment with >= {min_counts} events between "
                             f"{overlap_eV[0]:.3g} and {overlap_eV[1]:.3g} eV: widen the overlap")

    def chi2(lg_s):
        s = 10.0 ** lg_s
        sc = scale_energy(oth, s)
        e = sc["energy_eV"].to_numpy()[sel]
        f_ref = np.interp(np.log10(e), lg_ref_e, lg_ref_f)
        r_ref = np.interp(np.log10(e), lg_ref_e, rel_ref)
        rel = (sc[STAT] / sc[FLUX]).to_numpy()[sel]
        sigma_lg = np.sqrt(rel ** 2 + r_ref ** 2) / np.log(10.0)
        return float(np.sum(((np.log10(sc[FLUX].to_numpy()[sel]) - f_ref) / np.maximum(sigma_lg, 1e-3)) ** 2))

    m = Minuit(chi2, lg_s=0.0)
    m.errordef = Minuit.LEAST_SQUARES
    m.limits["lg_s"] = (-0.5, 0.5)
    m.migrad()
    m.hesse()
    s = 10.0 ** m.values["lg_s"]
    return CrossCalibration(float(s), float(s * np.log(10) * m.errors["lg_s"]), int(sel.sum()), float(m.fval),
                            overlap_eV)


def double_knee(energy_eV, lg_norm, lg_knee1, lg_knee2, g1, g2, g3, sharpness=4.0):
    """Power law with two smooth breaks; norm = flux per GeV at 1 PeV of the first branch."""
    e = np.asarray(energy_eV, dtype=np.float64)
    x1 = e / 10.0 ** lg_knee1
    x2 = e / 10.0 ** lg_knee2
    return (10.0 ** lg_norm) * (e / 1e15) ** (-g1) * (1 + x1 ** sharpness) ** (-(g2 - g1) / sharpness) * (
        1 + x2 ** sharpness) ** (-(g3 - g2) / sharpness)


def fit_combined(points: pd.DataFrame, energy_range_eV: tuple[float, float]) -> dict:
    """Chi-square fit of :func:`double_knee` to flux points (stat + syst in quadrature)."""
    from iminuit import Minuit

    p = points[(points["energy_eV"] >= energy_range_eV[0]) & (points["energy_eV"] <= energy_range_eV[1])
               & (points[FLUX] > 0)]
    e = p["energy_eV"].to_numpy()
    lf = np.log10(p[FLUX].to_numpy())
    err = np.sqrt(p[STAT].fillna(0) ** 2 + p.get(SYST, 0 * p[STAT]).fillna(0) ** 2).to_numpy() / p[FLUX].to_numpy()
    sig = np.maximum(err / np.log(10.0), 0.01)

    def chi2(lg_norm, lg_knee1, lg_knee2, gamma1, gamma2, gamma3):
        model = double_knee(e, lg_norm, lg_knee1, lg_knee2, gamma1, gamma2, gamma3)
        return float(np.sum(((lf - np.log10(model)) / sig) ** 2))

    norm0 = float(np.interp(15.0, np.log10(e), lf)) if len(e) else -15.0
    # (iminuit reserves the keyword g2: the indices are called gamma1..3)
    m = Minuit(chi2, lg_norm=norm0, lg_knee1=15.6, lg_knee2=17.0, gamma1=2.7, gamma2=3.1, gamma3=3.3)
    m.errordef = Minuit.LEAST_SQUARES
    m.limits["lg_knee1"] = (15.0, 16.3)
    m.limits["lg_knee2"] = (16.4, 17.8)
    for g in ("gamma1", "gamma2", "gamma3"):
        m.limits[g] = (1.5, 5.0)
    m.migrad(ncall=20000)
    m.hesse()
    units = {"lg_norm": "lg(GeV^-1 m^-2 s^-1 sr^-1) at 1 PeV", "lg_knee1": "lg(E/eV)", "lg_knee2": "lg(E/eV)",
             "gamma1": "", "gamma2": "", "gamma3": ""}
    out = {k: {"value": float(m.values[k]), "error": float(m.errors[k]), "unit": u} for k, u in units.items()}
    for k, name in (("lg_knee1", "knee_energy_eV"), ("lg_knee2", "second_knee_energy_eV")):
        v = 10.0 ** m.values[k]
        out[name] = {"value": float(v), "error": float(v * np.log(10) * m.errors[k]), "unit": "eV"}
    out["chi2"] = {"value": float(m.fval), "unit": "", "ndof": int(len(e) - 6)}
    out["valid"] = bool(m.valid)
    return out
