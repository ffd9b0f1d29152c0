"""Physics content of the KASCADE simulator: shower sizes, composition, spectrum,
trigger, reconstruction, exposure."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dlclab.simulate import kascade_physics as phys
from dlclab.simulate.primaries import PrimaryFlux


def test_vertical_proton_sizes_are_the_domain_parametrisation():
    lg_e = np.array([14.0, 15.0, 16.0, 17.0])
    one = np.ones(4)
    # DOMAIN.md section 5, lg E in GeV
    assert np.allclose(phys.mean_lg_ne(lg_e, one, 0 * one), -2.89080 + 1.22251 * (lg_e - 9))
    assert np.allclose(phys.mean_lg_nmu(lg_e, one, 0 * one), -1.88274 + 0.908129 * (lg_e - 9))
    # zenith attenuation: fewer particles at 40 deg, electrons much more than muons
    d_e = phys.mean_lg_ne(lg_e, one, 40 * one) - phys.mean_lg_ne(lg_e, one, 0 * one)
    d_mu = phys.mean_lg_nmu(lg_e, one, 40 * one) - phys.mean_lg_nmu(lg_e, one, 0 * one)
    assert np.all(d_e < -0.5) and np.all((d_mu < 0) & (d_mu > -0.2))


def test_simulated_proton_sizes_follow_the_parametrisation_within_fluctuations(big_sim):
    t = big_sim.truth
    # above 3 PeV the trigger is fully efficient for near-vertical protons: no selection bias
    sel = (t.A == 1) & (t.E_true > 3e15) & (t.Ze_true < 30)
    assert sel.sum() > 200
    lg_e = np.log10(t.E_true[sel].to_numpy())
    ze = t.Ze_true[sel].to_numpy()
    one = np.ones(sel.sum())
    res_e = np.log10(t.Ne_true[sel].to_numpy()) - phys.mean_lg_ne(lg_e, one, ze)
    res_mu = np.log10(t.Nmu_true[sel].to_numpy()) - phys.mean_lg_nmu(lg_e, one, ze)
    n = sel.sum()
    sig_e = phys.sigma_lg_ne(lg_e, one).mean()
    sig_mu = phys.sigma_lg_nmu(lg_e, one).mean()
    assert abs(res_e.mean()) < 4 * sig_e / math.sqrt(n)
    assert abs(res_mu.mean()) < 4 * sig_mu / math.sqrt(n)
    assert 0.8 * sig_e < res_e.std() < 1.2 * sig_e   # shower-to-shower fluctuations present
    assert 0.8 * sig_mu < res_mu.std() < 1.2 * sig_mu


def test_heavier_primaries_have_more_muons_per_electron(big_sim):
    t = big_sim.truth
    band = (t.E_true > 1e15) & (t.E_true < 3e15)
    ratio = {}
    for a in (1, 4, 56):
        s = band & (t.A == a)
        assert s.sum() > 50
        ratio[a] = np.median(np.log10(t.Nmu_true[s] / t.Ne_true[s]))
    assert ratio[1] < ratio[4] < ratio[56]
    # and it survives reconstruction
    arr = big_sim.array
    rec = {a: np.median(np.log10(arr.Nmu[band & (t.A == a)] / arr.Ne[band & (t.A == a)])) for a in (1, 56)}
    assert rec[1] < rec[56] - 0.2


def test_thrown_spectrum_and_exposure_give_back_the_h3a_flux(big_sim):
    e = big_sim.exposure
    edges = np.array(e.lg_energy_edges)
    thrown = np.sum([np.array(c) for c in e.thrown_counts.values()], axis=0)
    assert thrown.sum() == e.thrown_events
    flux = PrimaryFlux(e.energy_min_eV, e.energy_max_eV)
    centres = 0.5 * (edges[1:] + edges[:-1])
    width_eV = 10 ** edges[1:] - 10 ** edges[:-1]
    measured = thrown / (e.acceptance_m2_sr * e.live_time_s * width_eV)
    model = flux.flux_per_eV(10 ** centres)
    ok = thrown > 400
    assert ok.sum() >= 10
    pull = (measured[ok] - model[ok]) / (model[ok] / np.sqrt(thrown[ok]))
    assert np.abs(pull.mean()) < 1.0 and np.all(np.abs(pull) < 5)  # absolute flux via exposure
    # spectral index below the knee: H3a's local slope of E^gamma
    lo = (centres > 14.0) & (centres < 15.0)
    slope_sim = np.polyfit(centres[lo], np.log10(thrown[lo] / width_eV[lo]), 1)[0]
    slope_h3a = np.polyfit(centres[lo], np.log10(model[lo]), 1)[0]
    assert abs(slope_sim - slope_h3a) < 0.05
    assert -2.8 < slope_sim < -2.55


def test_trigger_efficiency_rises_with_energy(big_sim):
    e = big_sim.exposure
    edges = np.array(e.lg_energy_edges)
    thrown = np.sum([np.array(c) for c in e.thrown_counts.values()], axis=0)
    recorded = np.histogram(np.log10(big_sim.truth.E_true), bins=edges)[0]
    coarse = [(14.0, 14.25), (14.25, 14.5), (14.5, 15.0), (15.0, 15.5), (15.5, 16.0)]
    eff = []
    for lo, hi in coarse:
        s = (edges[:-1] >= lo - 1e-9) & (edges[1:] <= hi + 1e-9)
        eff.append(recorded[s].sum() / thrown[s].sum())
    assert all(b > a for a, b in zip(eff, eff[1:])), eff
    assert eff[0] < 0.1 and eff[-1] > 0.5


def test_reconstruction_differs_from_truth_with_realistic_resolution(big_sim):
    t, a = big_sim.truth, big_sim.array
    hi = t.E_true > 3e15
    d_lg_e = np.log10(a.E[hi] / t.E_true[hi])
    assert abs(np.median(d_lg_e)) < 0.1             # an unbiased-ish estimate ...
    assert 0.03 < d_lg_e.std() < 0.25                 # ... with a resolution, not the truth
    assert not np.allclose(a.E, t.E_true)
    d_core = np.hypot(a.Xc - t.Xc_true, a.Yc - t.Yc_true)
    assert 0.3 < np.median(d_core) < 10
    assert 0.05 < np.median(np.abs(a.Ze - t.Ze_true)) < 1.5
    assert np.all(np.abs(a.Xc) <= 91) and np.all(np.abs(a.Yc) <= 91)
    assert a.Ze.between(0, 60).all() and a.Az.between(0, 360).all()
    assert a.Age.between(0.1, 1.48).all()


def test_grande_and_calorimeter_components(big_sim):
    g, c, t = big_sim.grande, big_sim.calorimeter, big_sim.truth
    seen = g.Nch.notna()
    assert 0 < seen.sum() < len(g)
    # GRANDE sees the big showers, none above 40 deg
    assert t.E_true[seen].median() > 10 * t.E_true[~seen].median()
    assert (g.Ze[seen] <= 40).all()
    assert c.Nhad.between(0, 511).all()
    assert ((c.Nhad == 0) == (c.Ehad == 0)).all()
    near = np.hypot(t.Xc_true, t.Yc_true) < 10
    assert c.Nhad[near & (t.E_true > 1e15)].mean() > c.Nhad[~near].mean()


def test_general_component_times_runs_and_weather(big_sim):
    from dlclab.simulate.runs import kascade_runs

    g = big_sim.general
    runs = kascade_runs().set_index("run")
    start = runs.loc[g.R, "start_s"].to_numpy()
    stop = runs.loc[g.R, "stop_s"].to_numpy()
    assert np.all((g.Gt >= start) & (g.Gt < stop))
    assert g.Mt.between(0, 999_999_999).all()
    t_ns = g.Gt.to_numpy() * 1_000_000_000 + g.Mt.to_numpy()
    assert np.all(np.diff(t_ns) >= 0)
    # Ev counts up within each run
    same = g.R.to_numpy()[1:] == g.R.to_numpy()[:-1]
    assert np.all(np.diff(g.Ev.to_numpy())[same] > 0)
    assert g.Ev.between(1, 4_100_000).all()
    assert g["T"].between(-20, 50).all() and g["P"].between(960, 1040).all()
    # seasons: July warmer than January
    month = (g.Gt // 86400 % 365.2425 / 30.44).astype(int)
    assert g["T"][month == 6].mean() > g["T"][month == 0].mean() + 8
    assert g.UUID.is_unique


def test_exposure_is_recorded_and_consistent(big_sim):
    e = big_sim.exposure
    assert e.area_m2 == pytest.approx(200 * 200)
    assert (e.zenith_min_deg, e.zenith_max_deg) == (0.0, 60.0)
    assert e.recorded_events == len(big_sim) == 200_000
    flux = PrimaryFlux(e.energy_min_eV, e.energy_max_eV)
    expected_live = e.thrown_events / (flux.integral_rate_per_m2_s_sr() * e.acceptance_m2_sr)
    assert e.live_time_s == pytest.approx(expected_live, rel=2e-3)
    assert e.acceptance_m2_sr == pytest.approx(40000 * math.pi * 0.75)
    info = big_sim.to_export().info
    assert info.simulation and info.exposure["live_time_s"] == e.live_time_s


def test_primary_ids_are_corsika_ids_matching_the_mass(big_sim):
    t = big_sim.truth
    pairs = set(zip(t.PrimaryId.tolist(), t.A.tolist()))
    assert pairs == {(14, 1), (402, 4), (1206, 12), (2814, 28), (5626, 56)}
    shares = t.A.value_counts(normalize=True)
    assert shares[1] > shares[56] > 0.02  # H3a composition near the threshold


def test_fast_throw_path_uses_the_documented_size_formula():
    """The per-primary line in the throw loop is kascade_physics.mean_lg_ne rearranged."""
    from dlclab.simulate.kascade import _K_E, _SpeciesEnergySampler

    s = _SpeciesEnergySampler(PrimaryFlux(1e14, 1e18))
    sp = np.array([0, 1, 2, 3, 4])
    lg_e = np.array([14.0, 15.0, 16.0, 17.0, 17.5])
    cos_z = np.cos(np.deg2rad([0.0, 20.0, 40.0, 50.0, 60.0]))
    fast = s.lg_ne_const[sp] + phys.LG_NE_SLOPE * lg_e - _K_E / cos_z
    assert np.allclose(fast, phys.mean_lg_ne(lg_e, s.mass[sp], np.rad2deg(np.arccos(cos_z))), atol=1e-12)
