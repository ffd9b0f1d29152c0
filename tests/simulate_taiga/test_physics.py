"""Physics sanity of the TAIGA simulators, checked on the raw files where possible."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from dlclab.formats.taiga import read_file
from dlclab.instruments import taiga as layout
from dlclab.simulate import taiga_eas as eas
from dlclab.simulate import taiga_grande, taiga_iact, taiga_rex, taiga_tunka133


def test_cherenkov_ldf_is_normalised_at_175_m_falls_with_r_and_grows_with_energy():
    e = np.array([1e15, 1e16, 1e17])
    q175 = eas.q175_from_energy(e)
    assert np.all(np.diff(q175) > 0)
    # E = A Q175^0.94 (Tunka): one decade in E is 1/0.94 decades in Q175
    assert np.allclose(np.diff(np.log10(q175)), 1 / 0.94)
    assert np.allclose(eas.energy_from_q175(q175), e)
    r = np.linspace(10, 800, 200)[None, :]
    q = eas.cherenkov_ldf(r, q175, np.full(3, 400.0))
    assert np.allclose(eas.cherenkov_ldf(np.full((3, 1), 175.0), q175, np.full(3, 400.0))[:, 0], q175)
    assert np.all(np.diff(q, axis=1) < 0)
    # a shower with its maximum close to the ground has a steeper core (Tunka steepness P)
    near, far = eas.cherenkov_ldf(np.array([[50.0, 200.0]]), q175[:1], np.array([150.0])), \
        eas.cherenkov_ldf(np.array([[50.0, 200.0]]), q175[:1], np.array([600.0]))
    assert near[0, 0] / near[0, 1] > far[0, 0] / far[0, 1]


def test_tunka133_pulse_charges_follow_the_ldf_of_the_true_shower(taiga_raw):
    """Charge in each anode trace (the raw bytes) against the LDF at the true geometry."""
    rows = []
    for night in sorted((taiga_raw / "tunka133").iterdir()):
        truth = pd.read_parquet(night / "truth.parquet").set_index("event_number")
        for path in sorted(night.glob("t133_c*.001")):
            data = read_file(path)
            cluster = int(path.name[6:8])
            fadc = data.fadc[:, 0:28:4, :].astype(np.float64)          # the 7 anodes
            base = np.median(fadc[:, :, :300], axis=2, keepdims=True)
            charge_pe = (fadc[:, :, 380:] - base).sum(axis=2) / taiga_tunka133.ANODE_CHARGE_PER_PE
            t = truth.loc[data.events["event_number"]]
            showers = eas.Showers(
                energy_eV=t["energy_eV"].to_numpy(), zenith_deg=t["zenith_deg"].to_numpy(),
                azimuth_deg=t["azimuth_deg"].to_numpy(), core_x_m=t["core_x_m"].to_numpy(),
                core_y_m=t["core_y_m"].to_numpy(), corsika_id=t["corsika_id"].to_numpy(),
                mass_number=t["mass_number"].to_numpy(), xmax_g_cm2=t["xmax_g_cm2"].to_numpy(),
                night=np.zeros(len(t), np.int32), time_ns=t["time_ns"].to_numpy(),
                nights=[eas.Night(dt.date(2013, 1, 5), 0, 1.0)])
            r, _ = eas.shower_geometry(showers, layout.tunka133_detector_positions()[cluster - 1])
            expected = eas.cherenkov_ldf(r, t["q175_ph_cm2_eV"].to_numpy(), eas.distance_to_xmax_g_cm2(showers)) \
                * np.cos(np.deg2rad(showers.zenith_deg))[:, None] * layout.TUNKA133_PMT_RESPONSE_CM2_EV
            rows.append(np.column_stack([expected.ravel(), charge_pe.ravel()]))
    both = np.vstack(rows)
    usable = (both[:, 0] > 30) & (both[:, 0] < 400)       # above noise, below saturation
    assert usable.sum() > 200
    exp, got = both[usable].T
    assert spearmanr(exp, got).statistic > 0.7           # Poisson spread at tens of pe
    edges = [30, 60, 120, 400]
    medians = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (exp >= lo) & (exp < hi)
        assert sel.sum() >= 10
        assert 0.8 < np.median(got[sel] / exp[sel]) < 1.2
        medians.append(np.median(got[sel]))
    assert np.all(np.diff(medians) > 0)


def test_tunka133_pulse_times_follow_the_shower_front(taiga_raw):
    """Peak times in the traces, relative within a record, against the true front."""
    residuals = []
    for night in sorted((taiga_raw / "tunka133").iterdir()):
        truth = pd.read_parquet(night / "truth.parquet").set_index("event_number")
        for path in sorted(night.glob("t133_c*.001")):
            data = read_file(path)
            cluster = int(path.name[6:8])
            anode = data.fadc[:, 0:28:4, :].astype(np.float64)
            amp = anode.max(axis=2) - np.median(anode[:, :, :300], axis=2)
            t_peak = anode.argmax(axis=2) * taiga_tunka133.SAMPLE_NS
            t = truth.loc[data.events["event_number"]]
            showers = _two_showers(t["energy_eV"], t["zenith_deg"], t["azimuth_deg"])
            showers.core_x_m, showers.core_y_m = t["core_x_m"].to_numpy(), t["core_y_m"].to_numpy()
            _, delay = eas.shower_geometry(showers, layout.tunka133_detector_positions()[cluster - 1])
            good = (amp > 100) & (amp < 1900)
            for k in np.flatnonzero(good.sum(axis=1) >= 4):
                d = (t_peak[k] - delay[k])[good[k]]
                residuals.append(d - d.mean())
    res = np.concatenate(residuals)
    assert len(res) > 100
    assert np.sqrt(np.mean(res ** 2)) < 5.0     # ns: 5 ns sampling, 1 ns jitter


def _iact_images(taiga_raw):
    night = sorted((taiga_raw / "taiga_iact").iterdir())[0]
    data = read_file(night / "iact.001")
    calib_json = json.loads((night / "calibration.json").read_text())
    calib = taiga_iact.IactCalibration(np.array(calib_json["pedestal_hg"]), np.array(calib_json["pedestal_lg"]),
                                       calib_json["gain_hg_adc_per_pe"], calib_json["gain_lg_adc_per_pe"],
                                       calib_json["hg_saturation_adc"])
    assert np.array_equal(calib_json["channel_to_pixel"], layout.channel_to_pixel())
    n = len(data.events)
    order = np.argsort(data.board.reshape(n, 18), axis=1)
    hg = np.take_along_axis(data.high_gain.reshape(n, 18, 32), order[:, :, None], axis=1)
    lg = np.take_along_axis(data.low_gain.reshape(n, 18, 32), order[:, :, None], axis=1)
    pe = taiga_iact.adc_to_pe(hg, lg, calib)
    truth = pd.read_parquet(night / "truth.parquet").set_index("event_number").loc[data.events["event_number"]]
    return pe, truth.reset_index()


def test_iact_gamma_images_are_narrower_and_point_to_the_source(taiga_raw):
    pe, truth = _iact_images(taiga_raw)
    h = taiga_iact.hillas_moments(pe)
    ok = (h["size_pe"] > 100).to_numpy()
    g = (truth["particle"] == "gamma").to_numpy()
    w_g, w_p = h["width_deg"][ok & g], h["width_deg"][ok & ~g]
    assert len(w_g) > 200 and len(w_p) > 100
    assert w_g.mean() < 0.75 * w_p.mean() and w_g.median() < w_p.median()
    # a width cut separates them, but only moderately (Hillas Q well below a CNN's)
    q = max((w_g < c).mean() / np.sqrt(max((w_p < c).mean(), 1e-3)) for c in np.arange(0.1, 0.3, 0.01))
    assert 1.3 < q < 4.0
    # the gamma images' major axis points back to the source at the camera centre
    geom = layout.iact_camera_geometry()
    w = np.where(pe > 6, pe, 0.0)
    cx, cy = h["cog_x_deg"].to_numpy(), h["cog_y_deg"].to_numpy()
    dx, dy = geom.x_deg[None] - cx[:, None], geom.y_deg[None] - cy[:, None]
    sxx, syy, sxy = (w * dx * dx).sum(1), (w * dy * dy).sum(1), (w * dx * dy).sum(1)
    psi = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    alpha = np.rad2deg(np.abs(np.arcsin(np.clip(
        (np.sin(psi) * cx - np.cos(psi) * cy) / np.maximum(np.hypot(cx, cy), 1e-6), -1, 1))))
    far = ok & (np.hypot(cx, cy) > 0.4)
    assert np.median(alpha[far & g]) < 10 < np.median(alpha[far & ~g])
    # image size measures the gamma energy (inside the light pool; beyond it the impact,
    # visible as the image's distance from the source, matters too)
    pool = ok & g & (truth["impact_m"] < 120).to_numpy()
    assert spearmanr(h["size_pe"][pool], truth["energy_eV"][pool]).statistic > 0.7
    assert spearmanr(h["size_pe"][ok & g], truth["energy_eV"][ok & g]).statistic > 0.4


def test_iact_proton_images_have_substructure(taiga_raw):
    """What a CNN can use beyond Hillas: more separate light clumps in proton images."""
    pe, truth = _iact_images(taiga_raw)
    geom = layout.iact_camera_geometry()
    nb = geom.neighbors
    nb_pe = np.where(nb[None] >= 0, pe[:, np.maximum(nb, 0)], -np.inf)
    peaks = ((pe > 10) & (pe > nb_pe.max(axis=2))).sum(axis=1)
    size = taiga_iact.hillas_moments(pe)["size_pe"].to_numpy()
    g = (truth["particle"] == "gamma").to_numpy()
    ok = size > 150
    assert peaks[ok & ~g].mean() > 1.3 * peaks[ok & g].mean()
    assert truth.loc[~g, "muon_ring"].mean() > 0.1


def test_iact_adc_round_trip_recovers_the_photoelectrons():
    rng = np.random.default_rng(3)
    calib = taiga_iact.iact_calibration(3)
    events = taiga_iact.draw_events(50, 50, rng)
    expected = taiga_iact.expected_pe(events, rng)
    pe, _, hg, lg = taiga_iact.camera_response(expected, rng, calib)
    back = taiga_iact.adc_to_pe(hg, lg, calib)
    unsat = pe < 250
    assert np.abs(back - pe)[unsat].max() < 6 * taiga_iact.NOISE_HG_ADC / taiga_iact.GAIN_HG_ADC_PER_PE
    big = pe > 400                                       # high gain saturated: low gain used
    if big.any():
        assert np.all(np.abs(back[big] - pe[big]) / pe[big] < 0.2)


def _two_showers(energy, zenith, azimuth):
    n = len(energy)
    return eas.Showers(energy_eV=np.asarray(energy, float), zenith_deg=np.asarray(zenith, float),
                       azimuth_deg=np.asarray(azimuth, float), core_x_m=np.full(n, 100.0),
                       core_y_m=np.zeros(n), corsika_id=np.full(n, 14, np.int32),
                       mass_number=np.ones(n, np.int16), xmax_g_cm2=np.full(n, 650.0),
                       night=np.zeros(n, np.int32), time_ns=np.zeros(n, np.int64),
                       nights=[eas.Night(dt.date(2013, 1, 5), 0, 1.0)])


def test_radio_amplitude_scales_with_energy_and_geomagnetic_angle():
    hits = taiga_tunka133.ClusterHits(shower=np.array([0, 1, 2]), cluster=np.ones(3, np.int16),
                                      npe=np.zeros((3, 7)), delay_ns=np.zeros((3, 7)),
                                      fwhm_ns=np.full((3, 7), 12.0), trigger_delay_ns=np.zeros(3, np.int64))
    # 2 and 3: same energy, from the north (large angle to B) and from the south along B
    along_b = 90 - eas.GEOMAGNETIC_INCLINATION_DEG
    showers = _two_showers([1e17, 1e18, 1e18], [30.0, 30.0, along_b], [0.0, 0.0, 180.0])
    sin_a = taiga_rex.sin_geomagnetic_angle(showers)
    assert sin_a[2] < 0.05 < 0.5 < sin_a[0]
    arms, _ = taiga_rex.antenna_fields_uV_m(showers, hits)
    amp = np.linalg.norm(arms, axis=2)                  # (3 showers, 2 antennas)
    assert np.allclose(amp[1] / amp[0], 10.0)
    assert np.all(amp[2] < 0.3 * amp[1])                # only charge excess is left along B
    # and in the traces (with noise): peak-to-peak of the higher energy is larger
    traces = taiga_rex.rex_traces(showers, hits, np.random.default_rng(0)).astype(float)
    p2p = traces.max(axis=2) - traces.min(axis=2)
    assert p2p[1].max() > 5 * p2p[0].max() / 2


def test_xmax_depends_on_mass_and_energy():
    rng = np.random.default_rng(0)
    n = 20000
    e = np.full(n, 1e16)
    xp = eas.xmax_g_cm2(e, np.ones(n, np.int16), rng)
    xfe = eas.xmax_g_cm2(e, np.full(n, 56, np.int16), rng)
    assert 80 < xp.mean() - xfe.mean() < 120 and xp.std() > 2 * xfe.std()
    assert 50 < eas.xmax_g_cm2(e * 10, np.ones(n, np.int16), rng).mean() - xp.mean() < 66


def test_grande_records_have_particle_pulses(taiga_raw):
    night = sorted((taiga_raw / "tunka_grande").iterdir())[0]
    charges = []
    t0 = taiga_grande.TRIGGER_SAMPLE
    for path in sorted(night.glob("grande_s*.001")):
        s = read_file(path).samples.astype(np.float64)
        base = np.median(s[:, :, : t0 - 50], axis=2, keepdims=True)
        charges.append((s[:, :, t0 - 20: t0 + 80] - base).sum(axis=2))
    mip = taiga_grande.MIP_PEAK_ADC * eas.pulse_area_samples(np.array(15.0), taiga_grande.SAMPLE_NS)
    particles = np.vstack(charges) / mip
    # the trigger asks for particles in >= 2 surface channels (noise: ~0.2 MIP rms)
    assert ((particles[:, :4] > 0.4).sum(axis=1) >= 2).mean() > 0.85
    # surface channels (electrons + muons) see more than the underground ones (muons)
    assert np.median(particles[:, :4].sum(axis=1)) > 3 * np.median(np.maximum(particles[:, 4:].sum(axis=1), 0.1))
