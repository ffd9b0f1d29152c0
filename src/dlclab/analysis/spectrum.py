"""Exposure, detector response and forward-folded flux points.

The all-particle spectrum is measured as

    flux_j = n_j / (T * sum_i A_ji * dE_i-weighted model)  ... (forward folding)

Concretely: the simulation, thrown isotropically (flux through a horizontal plane) over
an area ``A_thrown`` and zenith band, gives the response ``R[j, i]`` = fraction of the
showers of true-energy bin ``i`` that trigger, are reconstructed, pass the cuts and land
in reconstructed bin ``j``. With the thrown aperture ``A_thrown * pi (sin^2 z_max - sin^2 z_min)``
(m^2 sr) and the data's live time ``T`` the expected counts of a flux model phi are

    mu_j = T * aperture * sum_i R[j, i] * integral_{bin i} phi(E) dE.

The model's parameters are fitted to the observed counts (Poisson likelihood), and the
flux points are the model at each bin centre scaled by observed / expected counts, so
that efficiency and resolution (migration) are both accounted for.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dlclab.analysis.models import KneeFit, broken_power_law, fit_knee, integrate_in_bins
from dlclab.errors import ParameterError
from dlclab.units import flux_per_eV_to_per_GeV, solid_angle_sr


@dataclass(frozen=True)
class Exposure:
    """Area (m^2), live time (s) and zenith band (deg) of a data set or simulation."""

    area_m2: float
    live_time_s: float
    zenith_min_deg: float
    zenith_max_deg: float

    @property
    def solid_angle_sr(self) -> float:
        return solid_angle_sr(self.zenith_max_deg, self.zenith_min_deg)

    @property
    def aperture_m2_sr(self) -> float:
        """Area x solid angle for a horizontal detector: A pi (sin^2 zmax - sin^2 zmin)."""
        s2 = np.sin(np.deg2rad([self.zenith_min_deg, self.zenith_max_deg])) ** 2
        return float(self.area_m2 * np.pi * (s2[1] - s2[0]))

    @property
    def exposure_m2_s_sr(self) -> float:
        return self.aperture_m2_sr * self.live_time_s

    def as_dict(self) -> dict:
        return {"area_m2": self.area_m2, "live_time_s": self.live_time_s,
                "zenith_min_deg": self.zenith_min_deg, "zenith_max_deg": self.zenith_max_deg,
                "solid_angle_sr": self.solid_angle_sr, "aperture_m2_sr": self.aperture_m2_sr,
                "exposure_m2_s_sr": self.exposure_m2_s_sr}


@dataclass
class Response:
    """Migration matrix R[j, i] (reco bin j, true bin i) per thrown shower, with edges."""

    lg_true_edges: NDArray[np.float64]
    lg_reco_edges: NDArray[np.float64]
    matrix: NDArray[np.float64]
    thrown: NDArray[np.float64]  # thrown showers per true bin
    aperture_m2_sr: float  # thrown aperture of the simulation

    @property
    def efficiency(self) -> NDArray[np.float64]:
        """Fraction of the thrown showers per true bin that end in any reco bin."""
        return self.matrix.sum(axis=0)


def build_response(lg_true_thrown: ArrayLike, lg_true_selected: ArrayLike, lg_reco_selected: ArrayLike,
                   lg_true_edges: ArrayLike, lg_reco_edges: ArrayLike, thrown_aperture_m2_sr: float) -> Response:
    """Count the simulation into the response matrix. ``*_selected`` are the showers that
    triggered, were reconstructed and passed the analysis cuts."""
    te = np.asarray(lg_true_edges, dtype=np.float64)
    re = np.asarray(lg_reco_edges, dtype=np.float64)
    thrown, _ = np.histogram(np.asarray(lg_true_thrown), bins=te)
    h, _, _ = np.histogram2d(np.asarray(lg_reco_selected), np.asarray(lg_true_selected), bins=[re, te])
    if np.any(thrown == 0):
        empty = te[:-1][thrown == 0]
        raise ParameterError(
            f"the simulation throws no showers in true-energy bins starting at lg E = {np.round(empty, 2).tolist()}; "
            "narrow lg_true_edges to the simulated range")
    return Response(te, re, h / thrown[None, :], thrown.astype(float), float(thrown_aperture_m2_sr))


def expected_counts(response: Response, live_time_s: float, flux) -> NDArray[np.float64]:
    """Counts per reco bin that the flux model ``flux(E_eV)`` predicts."""
    per_bin = integrate_in_bins(flux, response.lg_true_edges)
    return live_time_s * response.aperture_m2_sr * response.matrix @ per_bin


@dataclass
class SpectrumResult:
    """Flux points (per GeV) with statistical and systematic errors, plus the knee fit."""

    table: "object"  # pandas.DataFrame
    fit: KneeFit


def forward_fold(observed: ArrayLike, response: Response, live_time_s: float,
                 fit_range: tuple[float, float] | None = None,
                 power_law: bool = False) -> tuple[KneeFit, NDArray[np.float64]]:
    """Fit the knee model to observed reco counts; returns the fit and the flux points
    (eV^-1 m^-2 s^-1 sr^-1) at the reco bin centres, corrected by observed/expected.
    ``power_law=True`` fits a single power law (the break fixed above 10^19 eV), for
    samples too small to locate a break."""
    n = np.asarray(observed, dtype=np.float64)
    centres = 0.5 * (response.lg_reco_edges[1:] + response.lg_reco_edges[:-1])
    use = np.ones_like(n, dtype=bool)
    if fit_range is not None:
        use = (centres >= fit_range[0]) & (centres <= fit_range[1])

    def mu(lg_norm, lg_knee_eV, gamma1, gamma2):
        return expected_counts(response, live_time_s,
                               lambda e: broken_power_law(e, lg_norm, lg_knee_eV, gamma1, gamma2))[use]

    # a first guess of the norm from the counts so MIGRAD starts in the right decade
    ref = expected_counts(response, live_time_s, lambda e: broken_power_law(e, -24.0, 15.6, 2.7, 3.1))
    start_norm = -24.0 + np.log10(max(n[use].sum(), 1.0) / max(ref[use].sum(), 1e-300))
    if power_law:
        fit = fit_knee(mu, n[use], start={"lg_norm": float(start_norm), "lg_knee_eV": 19.0, "gamma2": 3.0},
                       limits={"lg_knee_eV": (14.5, 19.5)}, fixed=("lg_knee_eV", "gamma2"))
    else:
        fit = fit_knee(mu, n[use], start={"lg_norm": float(start_norm)})
    mu_all = expected_counts(response, live_time_s, fit.flux)
    flux_points = np.where(mu_all > 0, n / np.where(mu_all > 0, mu_all, 1.0), np.nan) * fit.flux(10.0 ** centres)
    return fit, flux_points


def flux_table(observed: ArrayLike, response: Response, live_time_s: float, fit: KneeFit,
               flux_points_per_eV: ArrayLike, systematic_variants: list[ArrayLike] | None = None,
               min_counts: int = 1):
    """Per-bin table: energy (eV), counts, flux and errors in GeV^-1 m^-2 s^-1 sr^-1, E^2.6-weighted
    flux, efficiency. Systematic error = largest deviation of the variant flux points."""
    import pandas as pd

    n = np.asarray(observed, dtype=np.float64)
    lo, hi = response.lg_reco_edges[:-1], response.lg_reco_edges[1:]
    centre = 0.5 * (lo + hi)
    flux = flux_per_eV_to_per_GeV(flux_points_per_eV)
    stat = np.where(n > 0, flux / np.sqrt(np.where(n > 0, n, 1)), np.nan)
    if systematic_variants:
        dev = np.abs(np.vstack([flux_per_eV_to_per_GeV(v) for v in systematic_variants]) - flux[None, :])
        syst = np.nanmax(dev, axis=0)
    else:
        syst = np.zeros_like(flux)
    # efficiency interpolated at the reco bin centre from the true-binned efficiency
    te_c = 0.5 * (response.lg_true_edges[1:] + response.lg_true_edges[:-1])
    eff = np.interp(centre, te_c, response.efficiency)
    table = pd.DataFrame({
        "lg_energy_low_eV": lo, "lg_energy_high_eV": hi,
        "energy_eV": 10.0 ** centre,
        "counts": n.astype(np.int64),
        "expected_counts": expected_counts(response, live_time_s, fit.flux),
        "efficiency": eff,
        "flux_per_GeV_m2_s_sr": flux,
        "flux_stat_err_per_GeV_m2_s_sr": stat,
        "flux_syst_err_per_GeV_m2_s_sr": syst,
    })
    e_GeV = table["energy_eV"] / 1e9
    table["e2.6_flux_GeV1.6_per_m2_s_sr"] = flux * e_GeV ** 2.6
    # bins with counts but no predicted events (outside the simulated response) carry no flux
    table = table[(table["counts"] >= min_counts) & (table["expected_counts"] > 0)].reset_index(drop=True)
    return table


def histogram_counts(lg_energy: ArrayLike, lg_edges: ArrayLike) -> NDArray[np.float64]:
    counts, _ = np.histogram(np.asarray(lg_energy), bins=np.asarray(lg_edges))
    return counts.astype(np.float64)


def thrown_per_bin_from_model(n_thrown: int, energy_min_eV: float, energy_max_eV: float,
                              lg_true_edges: ArrayLike, model: str = "H3a") -> NDArray[np.float64]:
    """Expected thrown showers per true-energy bin when the simulation only records the
    number thrown: the generator's own flux model (crflux H3a) over its energy range
    tells how they were distributed."""
    from dlclab.simulate.primaries import PrimaryFlux

    flux = PrimaryFlux(energy_min_eV, energy_max_eV, model=model)
    edges = np.clip(np.asarray(lg_true_edges, dtype=np.float64), np.log10(energy_min_eV), np.log10(energy_max_eV))
    per_bin = integrate_in_bins(flux.flux_per_eV, edges)
    return n_thrown * per_bin / flux.integral_rate_per_m2_s_sr()


def response_from_thrown_counts(thrown_per_bin: ArrayLike, lg_true_selected: ArrayLike,
                                lg_reco_selected: ArrayLike, lg_true_edges: ArrayLike,
                                lg_reco_edges: ArrayLike, thrown_aperture_m2_sr: float,
                                min_events: int = 30) -> Response:
    """Like :func:`build_response` with the thrown showers per true bin given directly.

    Above the highest true bin with at least ``min_events`` selected simulated showers the
    simulation runs out of statistics (a steep spectrum): there the response column is
    extrapolated from that bin - same efficiency, same migration shifted with the true
    energy (resolution and bias vary slowly in lg E where the array is fully efficient).
    """
    from scipy.stats import norm

    te = np.asarray(lg_true_edges, dtype=np.float64)
    re = np.asarray(lg_reco_edges, dtype=np.float64)
    thrown = np.asarray(thrown_per_bin, dtype=np.float64)
    if np.any(thrown <= 0):
        raise ParameterError("the simulation throws no showers in some true-energy bins; "
                             "narrow lg_true_edges to the simulated range")
    lt = np.asarray(lg_true_selected, dtype=np.float64)
    lr = np.asarray(lg_reco_selected, dtype=np.float64)
    h, _, _ = np.histogram2d(lr, lt, bins=[re, te])
    matrix = h / thrown[None, :]
    n_sel = np.histogram(lt, bins=te)[0]
    populated = np.flatnonzero(n_sel >= min_events)
    if populated.size:
        last = populated[-1]
        in_bin = (lt >= te[last]) & (lt < te[last + 1])
        eff = n_sel[last] / thrown[last]
        delta = lr[in_bin] - lt[in_bin]
        mu, sigma = float(np.mean(delta)), float(max(np.std(delta), 1e-3))
        for i in range(last + 1, len(te) - 1):
            centre = 0.5 * (te[i] + te[i + 1])
            cdf = norm.cdf(re, loc=centre + mu, scale=sigma)
            matrix[:, i] = eff * np.diff(cdf)
    return Response(te, re, matrix, thrown, float(thrown_aperture_m2_sr))


def parametric_response(thrown_per_bin: ArrayLike, lg_true_selected: ArrayLike, lg_reco_selected: ArrayLike,
                        lg_true_edges: ArrayLike, lg_reco_edges: ArrayLike,
                        thrown_aperture_m2_sr: float) -> tuple[Response, dict]:
    """A smooth response for small simulations: the efficiency as a logistic function of
    lg E_true (binomial maximum likelihood on thrown/selected per true bin) times a
    Gaussian migration in lg E with the simulation's mean bias and spread.

    Returns the response and its parameters (``eff_max``, ``lg_e50``, ``width``,
    ``bias_lg``, ``sigma_lg``).
    """
    from iminuit import Minuit
    from scipy.special import expit
    from scipy.stats import norm

    te = np.asarray(lg_true_edges, dtype=np.float64)
    re = np.asarray(lg_reco_edges, dtype=np.float64)
    thrown = np.asarray(thrown_per_bin, dtype=np.float64)
    lt = np.asarray(lg_true_selected, dtype=np.float64)
    lr = np.asarray(lg_reco_selected, dtype=np.float64)
    if len(lt) < 10:
        raise ParameterError(f"a parametric response needs at least 10 selected simulated showers, got {len(lt)}")
    k = np.histogram(lt, bins=te)[0].astype(np.float64)
    centre = 0.5 * (te[1:] + te[:-1])

    def nll(eff_max, lg_e50, width):
        p = np.clip(eff_max * expit((centre - lg_e50) / width), 1e-12, 1 - 1e-12)
        return float(-np.sum(k * np.log(p) + (thrown - k) * np.log1p(-p)))

    m = Minuit(nll, eff_max=min(0.9, max(k.max() / thrown.max(), 0.1)), lg_e50=float(np.median(lt)), width=0.2)
    m.errordef = Minuit.LIKELIHOOD
    m.limits["eff_max"] = (1e-3, 1.0)
    m.limits["lg_e50"] = (te[0] - 1, te[-1] + 1)
    m.limits["width"] = (0.02, 2.0)
    m.migrad()
    delta = lr - lt
    bias, sigma = float(np.mean(delta)), float(max(np.std(delta), 1e-3))
    eff = m.values["eff_max"] * expit((centre - m.values["lg_e50"]) / m.values["width"])
    cdf = norm.cdf(re[:, None], loc=centre[None, :] + bias, scale=sigma)
    matrix = eff[None, :] * np.diff(cdf, axis=0)
    params = {"eff_max": float(m.values["eff_max"]), "lg_e50": float(m.values["lg_e50"]),
              "width": float(m.values["width"]), "bias_lg": bias, "sigma_lg": sigma}
    return Response(te, re, matrix, thrown, float(thrown_aperture_m2_sr)), params
