"""Determinism, identity, run tables, station grid and per-station arrays."""
from __future__ import annotations

import uuid
from datetime import date

import awkward as ak
import numpy as np
import pandas as pd

from dlclab.identity import event_uuid, event_uuid_strings, uuid_ascii_to_arrow
from dlclab.instruments.kascade import station_grid
from dlclab.simulate.kascade import simulate_kascade
from dlclab.simulate.runs import kascade_runs, place_times, tunka_moonless_nights


def test_same_seed_same_events_other_seed_other_events():
    a = simulate_kascade(3000, seed=3)
    b = simulate_kascade(3000, seed=3)
    c = simulate_kascade(3000, seed=4)
    for name in a.components:
        pd.testing.assert_frame_equal(a.components[name], b.components[name])
    assert a.exposure == b.exposure
    assert not np.array_equal(a.array.E.to_numpy(), c.array.E.to_numpy())
    # independent of the number of worker threads
    d = simulate_kascade(3000, seed=3, threads=1)
    pd.testing.assert_frame_equal(a.truth, d.truth)


def test_event_uuids_are_deterministic_v5_and_vectorised():
    u = event_uuid("KASCADE", 877, 1)
    assert u.version == 5 and u == event_uuid("kascade", 877, 1)
    assert u != event_uuid("KASCADE", 877, 2) and u != event_uuid("TAIGA", 877, 1)
    runs, evs = np.array([877, 1234, 7417]), np.array([1, 99, 4_100_000])
    fast = uuid_ascii_to_arrow(event_uuid_strings("KASCADE", runs, evs)).to_pylist()
    assert fast == [str(event_uuid("KASCADE", r, e)) for r, e in zip(runs, evs)]
    assert all(uuid.UUID(s).variant == uuid.RFC_4122 for s in fast)
    sim = simulate_kascade(500, seed=5)
    g = sim.general
    assert str(g.UUID[7]) == str(event_uuid("KASCADE", int(g.R[7]), int(g.Ev[7])))


def test_kascade_run_table_spans_the_kcdc_period():
    runs = kascade_runs()
    assert len(runs) == 7417 - 877 + 1
    assert runs.run.iloc[0] == 877 and runs.run.iloc[-1] == 7417
    assert runs.start_s.iloc[0] == 894638100 and runs.stop_s.iloc[-1] == 1358239243
    assert np.all(runs.start_s.to_numpy()[1:] >= runs.stop_s.to_numpy()[:-1])
    assert np.all(runs.live_s > 0)


def test_place_times_is_uniform_over_live_time():
    rng = np.random.default_rng(0)
    placed = place_times(np.array([0, 1000]), np.array([100, 300]), 40_000, rng)
    share = np.bincount(placed.period) / 40_000
    assert abs(share[0] - 0.25) < 0.01
    assert np.all((placed.unix_s >= np.array([0, 1000])[placed.period])
                  & (placed.unix_s < np.array([100, 1300])[placed.period]))
    assert placed.live_time_s == 400


def test_tunka_dark_time_is_night_and_avoids_the_moon():
    # full moon 2020-01-10, new moon 2020-01-24
    full = tunka_moonless_nights(date(2020, 1, 8), date(2020, 1, 12))
    new = tunka_moonless_nights(date(2020, 1, 22), date(2020, 1, 26))
    assert new.live_s.sum() > 5 * 3600 * 5 * 0.8  # long winter nights, moonless
    assert full.live_s.sum() < 0.5 * new.live_s.sum()
    # local night at Tunka (UTC+7 solar): dark windows lie between 10 and 24 UTC
    hours = (new.start_s % 86400) / 3600
    assert np.all((hours >= 10) & (hours <= 24))
    summer = tunka_moonless_nights(date(2020, 6, 1), date(2020, 6, 3))
    assert len(summer) == 0


def test_station_grid_has_252_stations_in_16_clusters():
    g = station_grid()
    assert len(g) == 252 and len(set(g.station_id)) == 252
    counts = np.bincount(g.cluster_id)[1:]
    assert sorted(counts) == [15] * 4 + [16] * 12
    assert np.all(np.abs(g.x_m) < 100) and np.all(np.abs(g.y_m) < 100)
    assert np.all(g.muon_area_m2[g.inner] == 0) and np.all(g.muon_area_m2[~g.inner] > 0)
    xs = np.unique(g.x_m)
    assert np.allclose(np.diff(xs), 13.0)


def test_per_station_arrays_follow_the_shower(array_sim):
    st = array_sim.stations
    assert len(st) == len(array_sim)
    n_hit = ak.num(st).to_numpy()
    ids = ak.to_numpy(ak.flatten(st.StationId))
    assert ids.min() >= 1 and ids.max() <= 252
    assert ak.all(ak.flatten(st.EDeposit) <= 30000) and ak.all(ak.flatten(st.MDeposit) <= 1000)
    # bigger showers hit more stations
    ne = array_sim.truth.Ne_true.to_numpy()
    assert np.corrcoef(np.log10(ne), n_hit)[0, 1] > 0.5
    # inner clusters have no muon detectors
    inner_ids = station_grid().station_id[station_grid().inner]
    m = ak.to_numpy(ak.flatten(st.MDeposit))
    assert np.all(m[np.isin(ids, inner_ids)] == 0) and np.any(m > 0)
    # the station nearest to the core gets the largest e/gamma deposit, usually
    g = station_grid()
    big = np.flatnonzero(ne > 1e4)[:50]
    hits = 0
    for i in big:
        ev = st[i]
        sid = ak.to_numpy(ev.StationId)
        d = np.hypot(g.x_m[sid - 1] - array_sim.truth.Xc_true[i], g.y_m[sid - 1] - array_sim.truth.Yc_true[i])
        hits += np.argmax(ak.to_numpy(ev.EDeposit)) in np.argsort(d)[:4]
    assert hits > 0.7 * len(big)


def test_parallel_uuid_hashing_matches_the_scalar_function():
    runs = np.arange(250_000) % 6541 + 877
    evs = np.arange(250_000) + 1
    rows = uuid_ascii_to_arrow(event_uuid_strings("KASCADE", runs, evs, workers=2)).to_pylist()
    assert len(set(rows)) == len(rows)
    for i in (0, 124_999, 125_000, 249_999):  # both halves and the seam
        assert rows[i] == str(event_uuid("KASCADE", int(runs[i]), int(evs[i])))
