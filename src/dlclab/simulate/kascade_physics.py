"""Air-shower physics of the KASCADE simulator: shower sizes, fluctuations, age,
trigger, reconstruction resolutions and lateral distributions. Pure vectorised
functions; the event loop lives in :mod:`dlclab.simulate.kascade`.

Shower sizes (DOMAIN.md section 5, a QGSJet parametrisation for vertical showers)::

    lg Ne  = -2.89080 + 1.22251 lg(E/GeV)
    lg Nmu = -1.88274 + 0.908129 lg(E/GeV)

Composition by superposition: a nucleus of mass A and energy E acts like A protons of
energy E/A, so N_A(E) = A N_p(E/A), i.e. lg N_A = lg N_p(E) + (1 - b) lg A with b the
slope above. Heavier primaries: fewer electrons (A^-0.22), more muons (A^+0.09).

Zenith attenuation: the extra slant depth X0 (sec Ze - 1) attenuates the sizes
exponentially, with X0 = 1022 g/cm^2 (vertical depth at 110 m a.s.l.) and attenuation
lengths LAMBDA_E = 175 g/cm^2 (electrons) and LAMBDA_MU = 1100 g/cm^2 (muons), the
order of the values KASCADE measured (Antoni et al., Astropart. Phys. 19 (2003) 703).

Every number here is a model choice of the lab (documented in docs/kcdc.md), tuned to
give KASCADE-like rates, thresholds and resolutions, not a fit to KASCADE data.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import beta as beta_function
from scipy.special import gammaln
from scipy.special import ndtr

LG_NE_OFFSET, LG_NE_SLOPE = -2.89080, 1.22251
LG_NMU_OFFSET, LG_NMU_SLOPE = -1.88274, 0.908129
VERTICAL_DEPTH_G_CM2 = 1022.0
LAMBDA_E_G_CM2 = 175.0
LAMBDA_MU_G_CM2 = 1100.0
LAMBDA_HAD_G_CM2 = 120.0
LN10 = np.log(10.0)

#: Trigger: 50 % efficiency at this true lg Ne at ground, Gaussian width in lg Ne
TRIGGER_LG_NE_50 = 3.5
TRIGGER_LG_NE_WIDTH = 0.2
#: GRANDE reconstructs showers with lg Nch above about this (50 %), and Ze <= 40 deg
GRANDE_LG_NCH_50 = 5.7
GRANDE_LG_NCH_WIDTH = 0.25
GRANDE_ZENITH_MAX_DEG = 40.0

MOLIERE_RADIUS_M = 89.0  # NKG radius KASCADE fits use
MUON_LDF_R0_M = 320.0    # Greisen-type muon lateral distribution
SPEED_OF_LIGHT_M_PER_NS = 0.299792458


def slant_excess_g_cm2(zenith_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Extra atmosphere above a vertical shower, X0 (sec Ze - 1), g/cm^2."""
    return VERTICAL_DEPTH_G_CM2 * (1.0 / np.cos(np.deg2rad(zenith_deg)) - 1.0)


def mean_lg_ne(lg_energy_eV: NDArray[np.float64], mass_number: NDArray, zenith_deg: NDArray) -> NDArray:
    """Mean lg Ne at ground for energy (eV), mass number and zenith (deg)."""
    lg_e_gev = lg_energy_eV - 9.0
    lg_a = np.log10(mass_number)
    return (LG_NE_OFFSET + LG_NE_SLOPE * lg_e_gev + (1.0 - LG_NE_SLOPE) * lg_a
            - slant_excess_g_cm2(zenith_deg) / LAMBDA_E_G_CM2 / LN10)


def mean_lg_nmu(lg_energy_eV: NDArray[np.float64], mass_number: NDArray, zenith_deg: NDArray) -> NDArray:
    """Mean lg Nmu at ground for energy (eV), mass number and zenith (deg)."""
    lg_e_gev = lg_energy_eV - 9.0
    lg_a = np.log10(mass_number)
    return (LG_NMU_OFFSET + LG_NMU_SLOPE * lg_e_gev + (1.0 - LG_NMU_SLOPE) * lg_a
            - slant_excess_g_cm2(zenith_deg) / LAMBDA_MU_G_CM2 / LN10)


def sigma_lg_ne(lg_energy_eV: NDArray, mass_number: NDArray) -> NDArray:
    """Shower-to-shower fluctuation of lg Ne: 0.20 for 1e14 eV protons, smaller at higher
    energy and for heavier nuclei (superposition averages A sub-showers)."""
    return np.maximum(0.04, (0.20 - 0.03 * (lg_energy_eV - 14.0)) / mass_number ** 0.2)


def sigma_lg_nmu(lg_energy_eV: NDArray, mass_number: NDArray) -> NDArray:
    """Shower-to-shower fluctuation of lg Nmu (muon numbers fluctuate less than Ne)."""
    return np.maximum(0.03, (0.10 - 0.01 * (lg_energy_eV - 14.0)) / mass_number ** 0.15)


def mean_age(lg_energy_eV: NDArray, mass_number: NDArray, zenith_deg: NDArray) -> NDArray:
    """Mean NKG age: older for inclined and heavy showers, younger at high energy."""
    sec = 1.0 / np.cos(np.deg2rad(zenith_deg))
    return 0.90 + 0.35 * (sec - 1.0) - 0.06 * (lg_energy_eV - 15.0) + 0.03 * np.log(mass_number)


def trigger_probability(lg_ne_true: NDArray) -> NDArray:
    """Probability that the array triggers and reconstructs a shower of true size Ne."""
    return ndtr((lg_ne_true - TRIGGER_LG_NE_50) / TRIGGER_LG_NE_WIDTH)


def grande_probability(lg_nch_true: NDArray, zenith_deg: NDArray) -> NDArray:
    """Probability that GRANDE reconstructs the shower."""
    p = ndtr((lg_nch_true - GRANDE_LG_NCH_50) / GRANDE_LG_NCH_WIDTH)
    return np.where(zenith_deg <= GRANDE_ZENITH_MAX_DEG, p, 0.0)


# --- reconstruction resolutions of the KASCADE array (per event) -------------------

def core_resolution_m(lg_ne: NDArray) -> NDArray:
    """Core position resolution per coordinate: 6 m at lg Ne = 4, 1.5 m at lg Ne = 6."""
    return np.clip(6.0 * 10.0 ** (-0.3 * (lg_ne - 4.0)), 0.6, 8.0)


def direction_resolution_deg(lg_ne: NDArray) -> NDArray:
    """Angular resolution: 0.8 deg at lg Ne = 4, about 0.25 deg at lg Ne = 6."""
    return np.clip(0.8 * 10.0 ** (-0.25 * (lg_ne - 4.0)), 0.1, 1.5)


def size_resolution_lg(n: NDArray, relative_floor: float, poisson_scale: float) -> NDArray:
    """Resolution in lg N: relative error sqrt(floor^2 + scale / N), converted to lg."""
    return np.sqrt(relative_floor ** 2 + poisson_scale / np.maximum(n, 1.0)) / LN10


def ne_resolution_lg(ne: NDArray) -> NDArray:
    """lg Ne reconstruction error: 10 % floor, Poisson-like term at small sizes."""
    return size_resolution_lg(ne, 0.10, 100.0)


def nmu_resolution_lg(nmu: NDArray) -> NDArray:
    """lg Nmu reconstruction error: 12 % floor, larger for few muons."""
    return size_resolution_lg(nmu, 0.12, 50.0)


def estimate_lg_energy_eV(lg_ne: NDArray, lg_nmu: NDArray, zenith_deg: NDArray) -> NDArray:
    """KASCADE-like energy estimate from reconstructed sizes.

    Both sizes are corrected to vertical with the attenuation lengths, then combined
    as lg E = (lg Ne' - c_e + k (lg Nmu' - c_mu)) / (b_e + k b_mu) with
    k = (b_e - 1) / (1 - b_mu), the combination in which lg A cancels under
    superposition: the estimate is composition-independent on average, its resolution
    follows from the size fluctuations (about 20-30 % near the knee).
    """
    x = slant_excess_g_cm2(zenith_deg)
    lg_ne0 = lg_ne + x / LAMBDA_E_G_CM2 / LN10
    lg_nmu0 = lg_nmu + x / LAMBDA_MU_G_CM2 / LN10
    k = (LG_NE_SLOPE - 1.0) / (1.0 - LG_NMU_SLOPE)
    lg_e_gev = ((lg_ne0 - LG_NE_OFFSET) + k * (lg_nmu0 - LG_NMU_OFFSET)) / (LG_NE_SLOPE + k * LG_NMU_SLOPE)
    return lg_e_gev + 9.0


# --- lateral distributions ------------------------------------------------------------

def nkg_density_per_m2(r_m: NDArray, ne: NDArray, age: NDArray,
                       moliere_radius_m: float = MOLIERE_RADIUS_M) -> NDArray:
    """NKG electron density (m^-2) at distance r from the axis in the shower plane:
    Ne C(s) / rM^2 (r/rM)^(s-2) (1 + r/rM)^(s-4.5), C(s) = G(4.5-s) / (2 pi G(s) G(4.5-2s))."""
    s = np.clip(age, 0.2, 2.0)
    lg_c = gammaln(4.5 - s) - gammaln(s) - gammaln(4.5 - 2.0 * s) - np.log(2.0 * np.pi)
    x = np.maximum(r_m, 1.0) / moliere_radius_m
    return ne * np.exp(lg_c) / moliere_radius_m ** 2 * x ** (s - 2.0) * (1.0 + x) ** (s - 4.5)


_MUON_NORM = 1.0 / (2.0 * np.pi * MUON_LDF_R0_M ** 1.25 * beta_function(1.25, 1.25))


def muon_density_per_m2(r_m: NDArray, nmu: NDArray) -> NDArray:
    """Greisen-type muon density (m^-2): Nmu C r^-0.75 (1 + r/r0)^-2.5, normalised to Nmu
    over the plane (C from the Beta function)."""
    r = np.maximum(r_m, 1.0)
    return nmu * _MUON_NORM * r ** -0.75 * (1.0 + r / MUON_LDF_R0_M) ** -2.5
