"""Every analysis notebook runs on the sample release and its result tables are sane."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

UNITS_BY_SUFFIX = {"_eV": "eV", "_per_GeV_m2_s_sr": "GeV^-1 m^-2 s^-1 sr^-1", "_deg": "deg"}


def _results(rec) -> dict:
    return json.loads((rec.run_dir / "results.json").read_text())


def _table(rec, name) -> pd.DataFrame:
    return pd.read_csv(rec.run_dir / f"{name}.csv")


@pytest.mark.parametrize("name", ["kascade_spectrum", "tunka_spectrum", "combined_spectrum",
                                  "arrival_directions", "iact_deep_learning"])
def test_each_analysis_completes_with_results_beside_the_notebook(analysis_runs, name):
    rec = analysis_runs[name]
    assert rec.record["status"] == "completed"
    files = {p.name for p in rec.run_dir.iterdir()}
    assert f"{name}.ipynb" in files and "results.json" in files and "ro-crate-metadata.json" in files
    doc = _results(rec)
    assert doc["analysis"] == name
    # every declared table exists, has rows, finite numbers and the units its column names say
    assert doc["tables"], "no result tables"
    for table, meta in doc["tables"].items():
        frame = _table(rec, table)
        assert len(frame) == meta["rows"] > 0
        numeric = frame.select_dtypes("number")
        assert np.isfinite(numeric.to_numpy(dtype=float)[:, ~numeric.columns.str.contains("syst|resolution|bias")]).all(), table
        for col, unit in meta["columns"].items():
            for suffix, expected in UNITS_BY_SUFFIX.items():
                if col.endswith(suffix):
                    assert unit == expected, (table, col, unit)


def test_kascade_knee_between_1_and_10_PeV_with_two_indices(analysis_runs):
    res = _results(analysis_runs["kascade_spectrum"])["results"]
    knee = res["knee_energy_eV"]
    assert knee["unit"] == "eV" and 1e15 < knee["value"] < 1e16 and knee["error"] > 0
    g1, g2 = res["gamma_below_knee"]["value"], res["gamma_above_knee"]["value"]
    assert 2.4 < g1 < 3.0 and g2 > g1 and g2 < 4.0  # a steepening, as at the knee
    assert res["knee_fit"]["valid"] is True


def test_kascade_flux_is_in_the_right_units_and_near_the_input_model(analysis_runs):
    from dlclab.simulate.primaries import PrimaryFlux

    t = _table(analysis_runs["kascade_spectrum"], "spectrum")
    assert (t["flux_per_GeV_m2_s_sr"] > 0).all() and (t["flux_stat_err_per_GeV_m2_s_sr"] > 0).all()
    assert (t["flux_syst_err_per_GeV_m2_s_sr"] >= 0).all()
    # where statistics are good the measured flux follows the simulated truth (H3a) to ~30 %
    # (the efficiency includes the zenith and core cuts: relative to its plateau)
    good = t[(t["counts"] >= 100) & (t["efficiency"] > 0.5 * t["efficiency"].max())]
    assert len(good) >= 3
    h3a = PrimaryFlux(1e14, 1e18).flux_per_eV(good["energy_eV"].to_numpy()) * 1e9
    ratio = good["flux_per_GeV_m2_s_sr"].to_numpy() / h3a
    assert np.all((ratio > 0.7) & (ratio < 1.3)), ratio
    exposure = _results(analysis_runs["kascade_spectrum"])["results"]["exposure"]
    assert exposure["exposure_m2_s_sr"] == pytest.approx(
        exposure["area_m2"] * exposure["live_time_s"] * exposure["aperture_m2_sr"] / exposure["area_m2"])


def test_tunka_spectrum_from_raw_files(analysis_runs):
    rec = analysis_runs["tunka_spectrum"]
    res = _results(rec)["results"]
    # energy calibrated on truth: lg E rises with lg Q
    assert res["energy_calibration"]["coefficients"][1] > 0
    assert res["direction_resolution_deg"]["value"] < 2.0
    t = _table(rec, "spectrum")
    assert (t["experiment"] == "Tunka-133").all()
    assert t["energy_eV"].min() >= 1e15 and (t["flux_per_GeV_m2_s_sr"] > 0).all()
    # the inputs are the raw t133 files, recorded with their checksums
    inputs = json.loads((rec.run_dir / "inputs.json").read_text())["inputs"]
    raw = [f for i in inputs for f in i["files"] if ".truth" not in f["path"] and f["path"].split(".")[-1].isdigit()]
    assert raw and all(len(f["sha256"]) == 64 for f in raw)


def test_combined_spectrum_cross_calibrated_from_1e15_to_1e18(analysis_runs):
    rec = analysis_runs["combined_spectrum"]
    res = _results(rec)["results"]
    s = res["cross_calibration"]["energy_scale_factor"]
    assert 0.4 < s["value"] < 2.5 and s["error"] >= 0
    t = _table(rec, "spectrum")
    assert set(t["experiment"]) == {"KASCADE", "Tunka-133"}
    assert t["energy_eV"].min() < 3e15 and t["energy_eV"].max() > 3e16
    assert 1e15 < res["knee_energy_eV"]["value"] < res["second_knee_energy_eV"]["value"] <= 10 ** 17.8


def test_arrival_directions_in_equatorial_coordinates_with_a_rayleigh_test(analysis_runs):
    rec = analysis_runs["arrival_directions"]
    res = _results(rec)["results"]
    ray = _table(rec, "rayleigh").set_index("experiment")
    assert {"KASCADE", "Tunka-133", "combined"} <= set(ray.index)
    # simulated isotropic showers: no significant dipole, amplitude below the 99 % limit
    assert 0 <= res["chance_probability"]["value"] <= 1
    assert res["significance_sigma"]["unit"] == "sigma" and res["significance_sigma"]["value"] < 4
    sky = _table(rec, "skymap")
    assert sky["ra_low_deg"].min() == 0 and sky["ra_high_deg"].max() == 360
    # only the sky north of about dec = lat - zenith_max is seen from 49-52 deg N
    seen = sky[sky["relative_intensity"] > 0]
    assert seen["dec_high_deg"].min() > 0


def test_iact_cnn_beats_a_random_classifier_and_reports_energy_performance(analysis_runs):
    rec = analysis_runs["iact_deep_learning"]
    res = _results(rec)["results"]
    assert res["roc_auc_cnn"]["value"] > 0.6
    assert res["roc_auc_hillas"]["value"] > 0.6
    sep = _table(rec, "separation").set_index("method")
    assert set(sep.index) == {"cnn", "hillas_random_forest"}
    assert np.allclose(sep["gamma_efficiency"], 0.5, atol=0.05)
    assert (sep["q_factor"] > 1).all()
    perf = _table(rec, "energy_performance")
    assert set(perf["method"]) == {"cnn", "hillas_random_forest"}
    populated = perf[perf["n_events"] >= 10]
    assert len(populated) >= 4 and (populated["energy_resolution"] < 1.0).all()
    events = _table(rec, "test_events")
    assert len(events) == res["sample"]["n_test"] and events["cnn_gammaness"].between(0, 1).all()
