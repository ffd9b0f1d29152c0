"""TAIGA-IACT camera images of gamma rays and protons (a parametrised image model).

Not a ray-tracing simulation: each image is built from the parameters of the light
distribution that a Cherenkov telescope sees (Hillas 1985), with their known dependence
on energy and impact distance, so that the images have the features analyses use.

Gamma rays (point source on the optical axis, i.e. at the camera centre)
    E from a power law E^-2.6 (Crab-like) between 1 and 100 TeV; impact uniform on a
    disc of 300 m; size = 150 pe (E / TeV) f(b) x lognormal(0.25), with the light pool
    f(b) = 1 below 120 m and exp(-(b - 120 m)/100 m) beyond; the centroid lies at
    d = 0.0045 deg/m b (1 + 0.1 lg E/TeV) from the source, the major axis points back
    to the source (2 deg scatter); width 0.09 + 0.025 lg(E/TeV) deg, length
    0.18 + 0.12 lg(E/TeV) + 0.08 d deg (each with a 0.02-0.04 deg spread); the
    longitudinal profile is skewed (tail 1.3x, head 0.7x the length).
Protons (diffuse, within 3.5 deg of the optical axis)
    E from the H3a proton spectrum (``PrimaryFlux.flux_per_eV(E, 14)``) between 2 and
    200 TeV (protons give about a third of a gamma's light); impact on a disc of 400 m;
    size = 50 pe (E / TeV) f(b) x lognormal(0.5); the axis points to the proton's
    direction with a 20 deg scatter; width 0.17 deg x lognormal(0.4) (+0.03 lg E), length
    0.33 deg x lognormal(0.3) (+0.1 lg E). 40 % of the protons are "gamma-like" (an
    early pi0 sub-shower takes most of the energy): a smooth ellipse of 1.1 x a gamma's
    width, but oriented like any proton, i.e. not towards the source: their Hillas
    moments are a gamma's, only the orientation (alpha, which a CNN sees in the image)
    gives them away. The others carry substructure: Poisson(1 + 0.7 lg E/TeV) sub-shower
    clumps with together 15-45 % of the light. In 25 % of the proton images a muon ring
    or arc (radius 0.9-1.25 deg, 60-200 pe for a full ring).
Camera
    Expected photo-electrons are pixel integrals of the Gaussians (pixel second moment
    added to the variances); night-sky background 1.5 pe a pixel (Poisson), PMT excess
    noise 0.35; the camera triggers when two neighbouring pixels both see >= 10 pe.
    ADC: high gain 25 counts/pe, low gain 25/16 counts/pe (the ratio of the real sample),
    AC coupled (the mean sky light is subtracted), per-channel pedestals near 1250 counts
    with 20 (high) / 5 (low) counts of electronic noise; high gain saturates at 8250 counts
    (about the largest value in the real sample), low gain at 4095.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dlclab.instruments import taiga as layout

GAMMA_INDEX = 2.6
GAMMA_E_RANGE_EV = (1e12, 1e14)
PROTON_E_RANGE_EV = (2e12, 2e14)
GAMMA_IMPACT_MAX_M = 300.0
PROTON_IMPACT_MAX_M = 400.0
PROTON_VIEW_CONE_DEG = 3.5
POINTING_ZENITH_DEG = 20.0
POINTING_AZIMUTH_DEG = 180.0
NSB_PE = 1.5
EXCESS_NOISE = 0.35
TRIGGER_PE = 10.0
GAIN_HG_ADC_PER_PE = 25.0
HG_LG_RATIO = 16.0
PEDESTAL_ADC = 1250.0
PEDESTAL_SPREAD_ADC = 40.0
NOISE_HG_ADC = 20.0
NOISE_LG_ADC = 5.0
HG_MAX_ADC = 8250
LG_MAX_ADC = 4095
MUON_RING_PROBABILITY = 0.25
EM_LIKE_PROTON_FRACTION = 0.4
MAX_CLUMPS = 6
CORSIKA_GAMMA = 1
CORSIKA_PROTON = 14


@dataclass
class IactCalibration:
    """Pedestals (18, 32) and gains of the camera's channels (what a calibration run gives)."""

    pedestal_hg: NDArray[np.float64]
    pedestal_lg: NDArray[np.float64]
    gain_hg_adc_per_pe: float = GAIN_HG_ADC_PER_PE
    gain_lg_adc_per_pe: float = GAIN_HG_ADC_PER_PE / HG_LG_RATIO
    hg_saturation_adc: int = HG_MAX_ADC

    def to_dict(self) -> dict:
        return {"pedestal_hg": np.round(self.pedestal_hg, 3).tolist(),
                "pedestal_lg": np.round(self.pedestal_lg, 3).tolist(),
                "gain_hg_adc_per_pe": self.gain_hg_adc_per_pe,
                "gain_lg_adc_per_pe": self.gain_lg_adc_per_pe,
                "hg_saturation_adc": self.hg_saturation_adc,
                "channel_to_pixel": layout.channel_to_pixel().tolist()}


def iact_calibration(seed: int) -> IactCalibration:
    """The camera's pedestals for a seed (fixed per channel, like real hardware)."""
    rng = np.random.default_rng([seed, 560])
    shape = (layout.IACT_N_BOARDS, layout.IACT_CHANNELS_PER_BOARD)
    return IactCalibration(pedestal_hg=np.round(PEDESTAL_ADC + PEDESTAL_SPREAD_ADC * rng.standard_normal(shape)),
                           pedestal_lg=np.round(PEDESTAL_ADC + PEDESTAL_SPREAD_ADC * rng.standard_normal(shape)))


def adc_to_pe(high_gain: NDArray, low_gain: NDArray, calibration: IactCalibration) -> NDArray[np.float64]:
    """Channel amplitudes (..., 18, 32) -> photo-electrons per pixel (..., 560): high gain
    below saturation, low gain above it."""
    hg = (np.asarray(high_gain, dtype=np.float64) - calibration.pedestal_hg) / calibration.gain_hg_adc_per_pe
    lg = (np.asarray(low_gain, dtype=np.float64) - calibration.pedestal_lg) / calibration.gain_lg_adc_per_pe
    pe = np.where(np.asarray(high_gain) >= calibration.hg_saturation_adc, lg, hg)
    table = layout.channel_to_pixel()
    b, c = np.nonzero(table >= 0)
    out = np.empty(pe.shape[:-2] + (layout.IACT_N_PIXELS,))
    out[..., table[b, c]] = pe[..., b, c]
    return out


def iact_exposure(n_gamma: int, n_proton: int, live_time_s: float) -> dict:
    """What a flux calculation needs to know about a simulated IACT data set."""
    cone_sr = 2 * np.pi * (1 - np.cos(np.deg2rad(PROTON_VIEW_CONE_DEG)))
    return {
        "live_time_s": float(live_time_s),
        "pointing_zenith_deg": POINTING_ZENITH_DEG, "pointing_azimuth_deg": POINTING_AZIMUTH_DEG,
        "zenith_min_deg": POINTING_ZENITH_DEG - PROTON_VIEW_CONE_DEG,
        "zenith_max_deg": POINTING_ZENITH_DEG + PROTON_VIEW_CONE_DEG,
        "area_m2": float(np.pi * PROTON_IMPACT_MAX_M ** 2),
        "gamma": {"n_thrown": int(n_gamma), "area_m2": float(np.pi * GAMMA_IMPACT_MAX_M ** 2),
                  "energy_min_eV": GAMMA_E_RANGE_EV[0], "energy_max_eV": GAMMA_E_RANGE_EV[1],
                  "spectral_index": GAMMA_INDEX, "source": "point source on the optical axis"},
        "proton": {"n_thrown": int(n_proton), "area_m2": float(np.pi * PROTON_IMPACT_MAX_M ** 2),
                   "energy_min_eV": PROTON_E_RANGE_EV[0], "energy_max_eV": PROTON_E_RANGE_EV[1],
                   "flux_model": "HillasGaisser2012 H3a (protons)",
                   "view_cone_deg": PROTON_VIEW_CONE_DEG, "solid_angle_sr": float(cone_sr)},
    }


def _power_law(n: int, index: float, lo: float, hi: float, rng: np.random.Generator) -> NDArray:
    g = 1.0 - index
    u = rng.random(n)
    return (lo ** g + u * (hi ** g - lo ** g)) ** (1.0 / g)


def _proton_energies(n: int, rng: np.random.Generator) -> NDArray:
    from dlclab.simulate.primaries import PrimaryFlux

    lo, hi = PROTON_E_RANGE_EV
    flux = PrimaryFlux(lo, hi)
    lg_grid = np.linspace(np.log10(lo), np.log10(hi), 2001)
    e = 10.0 ** lg_grid
    dn = flux.flux_per_eV(e, CORSIKA_PROTON) * e       # per unit ln E
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dn[1:] + dn[:-1]) * np.diff(lg_grid))])
    return 10.0 ** np.interp(rng.random(n), cdf / cdf[-1], lg_grid)


def _light_pool(b_m: NDArray) -> NDArray:
    return np.where(b_m < 120.0, 1.0, np.exp(-(b_m - 120.0) / 100.0))


def draw_events(n_gamma: int, n_proton: int, rng: np.random.Generator) -> pd.DataFrame:
    """Truth parameters of ``n_gamma + n_proton`` images, in a random (arrival) order."""
    n = n_gamma + n_proton
    is_gamma = np.zeros(n, dtype=bool)
    is_gamma[:n_gamma] = True
    is_gamma = rng.permutation(is_gamma)
    g, p = is_gamma, ~is_gamma
    energy = np.empty(n)
    energy[g] = _power_law(int(g.sum()), GAMMA_INDEX, *GAMMA_E_RANGE_EV, rng)
    energy[p] = _proton_energies(int(p.sum()), rng)
    lg_e = np.log10(energy / 1e12)
    b_max = np.where(g, GAMMA_IMPACT_MAX_M, PROTON_IMPACT_MAX_M)
    b = b_max * np.sqrt(rng.random(n))
    phi_b = rng.uniform(0, 2 * np.pi, n)
    # direction of the primary in the camera (deg): the source for gammas, diffuse for protons
    cone = PROTON_VIEW_CONE_DEG * np.sqrt(rng.random(n))
    cone_phi = rng.uniform(0, 2 * np.pi, n)
    src_x = np.where(g, 0.0, cone * np.cos(cone_phi))
    src_y = np.where(g, 0.0, cone * np.sin(cone_phi))
    d = 0.0045 * b * (1 + 0.1 * lg_e)
    cog_x = src_x + d * np.cos(phi_b)
    cog_y = src_y + d * np.sin(phi_b)
    psi = phi_b + np.deg2rad(np.where(g, 2.0, 20.0)) * rng.standard_normal(n)
    size = np.where(g, 150.0, 50.0) * (energy / 1e12) * _light_pool(b) * np.exp(
        np.where(g, 0.25, 0.5) * rng.standard_normal(n))
    gamma_width = np.clip(0.09 + 0.025 * lg_e + 0.02 * rng.standard_normal(n), 0.05, None)
    # some protons put most energy into an electromagnetic sub-shower early (pi0):
    # gamma-like width and no clumps, only their orientation is a proton's
    em_like = p & (rng.random(n) < EM_LIKE_PROTON_FRACTION)
    proton_width = np.where(em_like, 1.1 * gamma_width,
                            0.17 * np.exp(0.4 * rng.standard_normal(n)) + 0.03 * lg_e)
    width = np.where(g, gamma_width, proton_width)
    length = np.where(g, np.clip(0.18 + 0.12 * lg_e + 0.08 * d + 0.04 * rng.standard_normal(n), 0.1, None),
                      0.33 * np.exp(0.3 * rng.standard_normal(n)) + 0.1 * lg_e)
    length = np.maximum(length, width)
    n_clumps = np.where(g | em_like, 0, np.minimum(rng.poisson(1.0 + 0.7 * lg_e), MAX_CLUMPS))
    muon = p & (rng.random(n) < MUON_RING_PROBABILITY)
    zen0, az0 = POINTING_ZENITH_DEG, POINTING_AZIMUTH_DEG
    # small-angle direction of the primary: camera y up (towards the zenith), x towards
    # increasing azimuth
    zenith = zen0 - src_y
    azimuth = np.mod(az0 + src_x / np.sin(np.deg2rad(zen0)), 360.0)
    return pd.DataFrame({
        "particle": np.where(g, "gamma", "proton"),
        "corsika_id": np.where(g, CORSIKA_GAMMA, CORSIKA_PROTON).astype(np.int32),
        "energy_eV": energy, "zenith_deg": zenith, "azimuth_deg": azimuth,
        "impact_x_m": b * np.cos(phi_b), "impact_y_m": b * np.sin(phi_b), "impact_m": b,
        "source_x_deg": src_x, "source_y_deg": src_y,
        "cog_x_deg": cog_x, "cog_y_deg": cog_y, "psi_deg": np.rad2deg(np.mod(psi, np.pi)),
        "width_deg": width, "length_deg": length, "size_pe": size,
        "n_clumps": n_clumps.astype(np.int16), "muon_ring": muon, "gamma_like": em_like,
    })


def _gaussian_pixels(px, py, cx, cy, psi, sig_l_head, sig_l_tail, sig_w, flux, dir_sign):
    """Expected pe in the pixels (1, 560) of split Gaussians with parameters (n, 1)."""
    pix_var = 5.0 / 72.0 * layout.IACT_PIXEL_SPACING_DEG ** 2     # 2nd moment of a hexagon
    area = np.sqrt(3) / 2 * layout.IACT_PIXEL_SPACING_DEG ** 2
    dx, dy = px - cx, py - cy
    lon = (dx * np.cos(psi) + dy * np.sin(psi)) * dir_sign        # > 0 away from the source
    lat = -dx * np.sin(psi) + dy * np.cos(psi)
    sh = np.sqrt(sig_l_head ** 2 + pix_var)
    st = np.sqrt(sig_l_tail ** 2 + pix_var)
    sw = np.sqrt(sig_w ** 2 + pix_var)
    sl = np.where(lon < 0, sh, st)
    dens = 2.0 / (np.sqrt(2 * np.pi) * (sh + st)) * np.exp(-0.5 * (lon / sl) ** 2) \
        / (np.sqrt(2 * np.pi) * sw) * np.exp(-0.5 * (lat / sw) ** 2)
    return flux * dens * area


def expected_pe(events: pd.DataFrame, rng: np.random.Generator) -> NDArray[np.float64]:
    """(n, 560) expected Cherenkov photo-electrons (no sky light) of the images."""
    geom = layout.iact_camera_geometry()
    px, py = geom.x_deg[None, :], geom.y_deg[None, :]
    n = len(events)
    col = {k: events[k].to_numpy()[:, None] for k in
           ("cog_x_deg", "cog_y_deg", "psi_deg", "width_deg", "length_deg", "size_pe",
            "source_x_deg", "source_y_deg")}
    psi = np.deg2rad(col["psi_deg"])
    # which way along the axis is away from the source (the tail)
    away = (col["cog_x_deg"] - col["source_x_deg"]) * np.cos(psi) + \
           (col["cog_y_deg"] - col["source_y_deg"]) * np.sin(psi)
    sign = np.where(away >= 0, 1.0, -1.0)
    n_clumps = events["n_clumps"].to_numpy()
    # the clumps together carry 15-45 % of the light, split at random among them
    raw = rng.dirichlet(np.ones(MAX_CLUMPS), n)
    raw = np.where(np.arange(MAX_CLUMPS)[None, :] < n_clumps[:, None], raw, 0.0)
    share = rng.uniform(0.15, 0.45, n)
    frac = raw / np.maximum(raw.sum(axis=1, keepdims=True), 1e-12) * share[:, None]
    main_flux = col["size_pe"] * (1.0 - frac.sum(axis=1, keepdims=True))
    image = _gaussian_pixels(px, py, col["cog_x_deg"], col["cog_y_deg"], psi,
                             0.7 * col["length_deg"], 1.3 * col["length_deg"], col["width_deg"],
                             main_flux, sign)
    for k in range(MAX_CLUMPS):
        active = frac[:, k] > 0
        along = rng.standard_normal(n) * events["length_deg"].to_numpy() * 1.2
        across = rng.standard_normal(n) * events["width_deg"].to_numpy() * 2.0
        p = psi[:, 0]
        cx = events["cog_x_deg"].to_numpy() + along * np.cos(p) - across * np.sin(p)
        cy = events["cog_y_deg"].to_numpy() + along * np.sin(p) + across * np.cos(p)
        sig = rng.uniform(0.08, 0.18, n)
        clump = _gaussian_pixels(px, py, cx[:, None], cy[:, None], psi, sig[:, None], sig[:, None],
                                 sig[:, None], (col["size_pe"][:, 0] * frac[:, k])[:, None], 1.0)
        image += np.where(active[:, None], clump, 0.0)
    muon = events["muon_ring"].to_numpy()
    if muon.any():
        image[muon] += _muon_rings(int(muon.sum()), px, py, rng)
    return image


def _muon_rings(m: int, px, py, rng: np.random.Generator) -> NDArray[np.float64]:
    """(m, 560) pe of muon rings or arcs: radius 0.9-1.25 deg, centre within 2.5 deg,
    60-200 pe for a full ring, Gaussian ring profile of 0.06 deg (+ pixel size)."""
    radius = rng.uniform(0.9, 1.25, m)[:, None]
    c_r = 2.5 * np.sqrt(rng.random(m))
    c_phi = rng.uniform(0, 2 * np.pi, m)
    cx, cy = (c_r * np.cos(c_phi))[:, None], (c_r * np.sin(c_phi))[:, None]
    extent = rng.uniform(np.pi / 2, 2 * np.pi, m)[:, None]
    start = rng.uniform(0, 2 * np.pi, m)[:, None]
    total = rng.uniform(60.0, 200.0, m)[:, None] * extent / (2 * np.pi)
    sig = np.sqrt(0.06 ** 2 + 5.0 / 72.0 * layout.IACT_PIXEL_SPACING_DEG ** 2)
    r = np.hypot(px - cx, py - cy)
    ang = np.mod(np.arctan2(py - cy, px - cx) - start, 2 * np.pi)
    on_arc = ang <= extent
    area = np.sqrt(3) / 2 * layout.IACT_PIXEL_SPACING_DEG ** 2
    dens = total / (extent * radius) / (np.sqrt(2 * np.pi) * sig) * np.exp(-0.5 * ((r - radius) / sig) ** 2)
    return np.where(on_arc, dens * area, 0.0)


def camera_response(expected: NDArray[np.float64], rng: np.random.Generator,
                    calibration: IactCalibration) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Sky light, photo-statistics and electronics. Returns (pe per pixel (n, 560),
    triggered (n,), high gain (n, 18, 32) uint16, low gain (n, 18, 32) uint16)."""
    n = expected.shape[0]
    counts = rng.poisson(expected + NSB_PE).astype(np.float64)
    pe = counts + EXCESS_NOISE * np.sqrt(counts) * rng.standard_normal(counts.shape) - NSB_PE
    geom = layout.iact_camera_geometry()
    above = (counts >= TRIGGER_PE)
    nb = geom.neighbors
    nb_above = np.where(nb[None, :, :] >= 0, above[:, np.maximum(nb, 0)], False).any(axis=2)
    triggered = (above & nb_above).any(axis=1)
    table = layout.channel_to_pixel()
    connected = table >= 0
    pe_ch = np.zeros((n,) + table.shape)
    pe_ch[:, connected] = pe[:, table[connected]]
    hg = calibration.pedestal_hg + calibration.gain_hg_adc_per_pe * pe_ch + \
        NOISE_HG_ADC * rng.standard_normal(pe_ch.shape)
    lg = calibration.pedestal_lg + calibration.gain_lg_adc_per_pe * pe_ch + \
        NOISE_LG_ADC * rng.standard_normal(pe_ch.shape)
    hg = np.clip(np.rint(hg), 0, HG_MAX_ADC).astype(np.uint16)
    lg = np.clip(np.rint(lg), 0, LG_MAX_ADC).astype(np.uint16)
    return pe, triggered, hg, lg


def hillas_moments(image_pe: NDArray[np.float64], threshold_pe: float = 6.0,
                   neighbour_pe: float = 3.0) -> pd.DataFrame:
    """Plain numpy Hillas moments (size, cog, width, length in deg) after a two-level
    tailcut; a cross-check that needs no ctapipe, used by the tests and the docs."""
    geom = layout.iact_camera_geometry()
    img = np.asarray(image_pe, dtype=np.float64)
    core = img >= threshold_pe
    nb = geom.neighbors
    has_core_nb = np.where(nb[None] >= 0, core[:, np.maximum(nb, 0)], False).any(axis=2)
    keep = (core & has_core_nb) | ((img >= neighbour_pe) & has_core_nb)
    w = np.where(keep, img, 0.0)
    size = w.sum(axis=1)
    s = np.maximum(size, 1e-9)
    mx = (w * geom.x_deg).sum(1) / s
    my = (w * geom.y_deg).sum(1) / s
    dx = geom.x_deg[None] - mx[:, None]
    dy = geom.y_deg[None] - my[:, None]
    sxx = (w * dx * dx).sum(1) / s
    syy = (w * dy * dy).sum(1) / s
    sxy = (w * dx * dy).sum(1) / s
    tr, det = sxx + syy, sxx * syy - sxy ** 2
    disc = np.sqrt(np.maximum(tr ** 2 / 4 - det, 0.0))
    length = np.sqrt(np.maximum(tr / 2 + disc, 0.0))
    width = np.sqrt(np.maximum(tr / 2 - disc, 0.0))
    return pd.DataFrame({"size_pe": size, "cog_x_deg": mx, "cog_y_deg": my,
                         "width_deg": width, "length_deg": length,
                         "n_pixels": keep.sum(axis=1)})
