"""Building blocks of the analyses, on small inputs (fast; the notebooks cover the rest)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlclab.analysis import combined, parameters, skymap, tunka
from dlclab.errors import ParameterError
from dlclab.instruments import sites


def test_fast_equatorial_transform_agrees_with_astropy_exact():
    rng = np.random.default_rng(3)
    n = 200
    t = rng.uniform(9.0e8, 1.35e9, n)
    z, a = rng.uniform(0, 45, n), rng.uniform(0, 360, n)
    ra1, dec1 = skymap.to_equatorial_exact(sites.TUNKA, t, z, a)
    ra2, dec2 = skymap.to_equatorial(sites.TUNKA, t, z, a)
    dra = (ra1 - ra2 + 180) % 360 - 180
    assert np.max(np.abs(dra * np.cos(np.deg2rad(dec1)))) < 0.03
    assert np.max(np.abs(dec1 - dec2)) < 0.03
    # the zenith is the site's latitude in declination
    _, dec_z = skymap.to_equatorial(sites.KASCADE, t[:5], np.zeros(5), np.zeros(5))
    assert np.allclose(dec_z, sites.KASCADE.latitude_deg, atol=0.3)


def _uniform_sky(n, rng, dipole=0.0):
    """Ten years of uniform running: (LST, HA, time) of the events kept by a RA dipole."""
    t = rng.uniform(1.0e9, 1.0e9 + 10 * 365 * 86400, n)
    lst = skymap.local_sidereal_time_deg(sites.KASCADE, t)
    ha = rng.normal(0, 20, n)
    ra = np.mod(lst - ha, 360)
    keep = rng.random(n) < (1 + dipole * np.cos(np.deg2rad(ra - 90))) / (1 + dipole)
    return lst[keep], ha[keep], t[keep]


def test_anisotropy_test_finds_an_injected_dipole_and_not_an_isotropic_one():
    rng = np.random.default_rng(5)
    iso = skymap.anisotropy_test(*_uniform_sky(40_000, rng))
    assert iso["method"].startswith("rayleigh") and iso["significance_sigma"] < 3
    dip = skymap.anisotropy_test(*_uniform_sky(40_000, rng, dipole=0.1))
    assert dip["significance_sigma"] > 5 and abs(dip["phase_deg"] - 90) < 15
    assert 0.06 < dip["amplitude"] < 0.14


def test_short_runs_are_tested_against_the_scrambled_exposure():
    rng = np.random.default_rng(7)
    n = 3000
    t = 1.357e9 + rng.uniform(0, 600, n)  # ten minutes of data: RA is far from uniform
    z = np.rad2deg(np.arccos(np.sqrt(rng.uniform(np.cos(np.deg2rad(40)) ** 2, 1, n))))
    lst = skymap.local_sidereal_time_deg(sites.TUNKA, t)
    ha, _ = skymap.hour_angle_declination(sites.TUNKA, z, rng.uniform(0, 360, n))
    plain = skymap.rayleigh_test(np.mod(lst - ha, 360))
    assert plain.significance_sigma > 10  # what a naive test would claim
    res = skymap.anisotropy_test(lst, ha, t, n_scrambles=50)
    assert res["method"].startswith("time-scrambled") and res["significance_sigma"] < 3


def test_cross_calibration_recovers_a_known_energy_scale():
    e = np.logspace(15.0, 17.0, 21)
    flux = 1e-12 * (e / 1e15) ** -2.7
    ref = pd.DataFrame({"energy_eV": e, "counts": 100, "flux_per_GeV_m2_s_sr": flux,
                        "flux_stat_err_per_GeV_m2_s_sr": 0.05 * flux})
    shifted = combined.scale_energy(ref[ref["energy_eV"] > 3e15], 1.25)
    xcal = combined.cross_calibrate(ref, shifted, (3e15, 1e17))
    assert xcal.factor == pytest.approx(1 / 1.25, rel=0.01)
    with pytest.raises(ParameterError, match="widen the overlap"):
        combined.cross_calibrate(ref, shifted, (1e18, 1e19))


def test_tunka_reconstruction_on_the_real_t133_sample(taiga_fixtures):
    """The real file (one cluster, 119 events) goes through the reader and the
    reconstruction: directions from single-cluster events, positive densities."""
    from dlclab.formats.taiga import read_file

    data = read_file(taiga_fixtures / "t133.001")
    records = data.events.copy()
    records["date"] = "real"
    reco = tunka.reconstruct(np.asarray(data.fadc), records)
    assert len(reco) == 119  # one event per event number
    ok = reco[reco["ok"]]
    assert len(ok) > 20
    assert ok["zenith_deg"].between(0, 90).all() and ok["azimuth_deg"].between(0, 360).all()
    assert np.isfinite(ok["lg_q_R"]).all()


def test_parameter_strings_are_typed_or_refused():
    spec = parameters.ParameterSpec("n", {"type": "integer", "minimum": 1}, 3)
    assert parameters.coerce(spec, "7") == 7
    with pytest.raises(ParameterError, match="not a valid integer"):
        parameters.coerce(spec, "7.5")
    flag = parameters.ParameterSpec("f", {"type": "boolean"}, True)
    assert parameters.coerce(flag, "false") is False
