"""The TAIGA sample: raw files read back through dlclab.formats.taiga and agree with truth."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from dlclab.formats.taiga import read_file
from dlclab.identity import event_uuid
from dlclab.simulate.primaries import PrimaryFlux
from dlclab.simulate.taiga import simulate_taiga_sample


def _nights(raw, facility):
    return sorted(p for p in (raw / facility).iterdir() if p.is_dir())


def _raw_files(folder, prefix):
    return sorted(p for p in folder.iterdir() if p.name.startswith(prefix) and p.suffix[1:].isdigit())


def test_sample_has_the_promised_size_and_layout(taiga_sample):
    out, summary = taiga_sample
    ev = summary["events"]
    assert set(ev) == {"tunka133", "tunka_rex", "tunka_grande", "taiga_iact", "taiga_hiscore"}
    assert 200 <= ev["tunka133"] <= 1000 and ev["tunka_rex"] == ev["tunka133"]
    assert 1000 <= ev["taiga_iact"] <= 2500
    assert ev["tunka_grande"] > 10 and ev["taiga_hiscore"] > 50
    for path in summary["files"]:
        rel = path.relative_to(out).parts
        assert rel[:2] == ("raw", "taiga") and rel[2] in ev
        assert len(rel[3]) == 10 and rel[3][4] == "-"          # YYYY-MM-DD
    assert len(_nights(out / "raw" / "taiga", "tunka133")) == 2
    names = {p.name for p in summary["files"]}
    assert {"t133_c01.001", "t133_c02.001", "t133_c03.001", "rex_c01.001", "grande_s01.001",
            "hiscore.001", "iact.001"} <= names


def test_tunka133_files_hold_the_recorded_showers(taiga_raw):
    for night in _nights(taiga_raw, "tunka133"):
        truth = pd.read_parquet(night / "truth.parquet")
        records = []
        for path in _raw_files(night, "t133_c"):
            data = read_file(path)
            assert data.format == "tunka133"
            cluster = int(path.name[6:8])
            ev = data.events
            assert (ev["cluster"] == cluster).all() and (ev["optical_line_length"] == 500).all()
            assert data.fadc.shape == (len(ev), 32, 512) and data.fadc.dtype == np.uint16
            assert np.all(np.diff(ev["event_number"]) > 0)
            records.append(ev.assign(file=path.name))
        rec = pd.concat(records)
        seen = truth[truth["tunka133_clusters"] > 0]
        assert set(rec["event_number"]) == set(seen["event_number"])
        assert len(rec) == int(truth["tunka133_clusters"].sum())
        # file times (ms resolution) agree with the true shower time to the front's spread
        merged = rec.merge(truth, on="event_number", suffixes=("", "_true"))
        assert (np.abs(merged["time_ns"] - merged["time_ns_true"]) < 1_000_000 + 10_000).all()


def test_events_are_rebuilt_across_cluster_files(taiga_raw):
    night = _nights(taiga_raw, "tunka133")[0]
    rec = pd.concat([read_file(p).events for p in _raw_files(night, "t133_c")])
    multi = rec.groupby("event_number").filter(lambda g: len(g) >= 2)
    assert multi["event_number"].nunique() >= 5          # showers seen by several clusters
    spread = multi.groupby("event_number")["time_ns"].agg(lambda t: t.max() - t.min())
    assert (spread <= 1_000_000).all()                   # same millisecond (or the next)


def test_tunka133_traces_look_like_the_real_electronics(taiga_raw):
    night = _nights(taiga_raw, "tunka133")[0]
    fadc = read_file(night / "t133_c01.001").fadc.astype(np.int64)
    base = np.median(fadc, axis=2)
    assert np.all(np.abs(base - 2048) < 40)
    amp = fadc.max(axis=2) - base
    anode = amp[:, 0:28:4]
    dynode = amp[:, 2:28:4]
    unconnected = amp[:, 1::2]
    assert (anode > 30).sum(axis=1).min() >= 1               # every event has pulses
    assert np.percentile(unconnected, 99) < 10               # only noise on odd channels
    big = anode > 500
    assert big.any() and np.all(dynode[big] < anode[big] / 10)   # low gain 1/25
    pos = fadc[:, 0:28:4].argmax(axis=2)[anode > 100]
    assert np.median(pos) > 400                              # trigger near the end, as in t133.001


def test_rex_is_read_out_on_every_tunka133_trigger(taiga_raw):
    for night in _nights(taiga_raw, "tunka_rex"):
        for rex_path in _raw_files(night, "rex_c"):
            rex = read_file(rex_path)
            t133 = read_file(taiga_raw / "tunka133" / night.name / rex_path.name.replace("rex_", "t133_"))
            assert rex.format == "tunka_rex" and rex.fadc.shape[1:] == (4, 512)
            assert np.array_equal(rex.events["event_number"], t133.events["event_number"])
            assert np.array_equal(rex.events["time_ns"], t133.events["time_ns"])


def test_grande_and_hiscore_files_match_truth(taiga_raw):
    for night in _nights(taiga_raw, "tunka_grande"):
        truth = pd.read_parquet(night / "truth.parquet")
        rec = []
        for path in _raw_files(night, "grande_s"):
            data = read_file(path)
            assert data.format == "tunka_grande" and data.samples.shape[1:] == (8, 1024)
            assert (data.link == 1).all()
            rec.append(data.events)
        rec = pd.concat(rec)
        assert len(rec) == int(truth["grande_stations"].sum())
        merged = rec.merge(truth, on="event_number", suffixes=("", "_true"))
        assert (np.abs(merged["time_ns"] - merged["time_ns_true"]) < 10_000).all()
    night = _nights(taiga_raw, "taiga_hiscore")[0]
    truth = pd.read_parquet(night / "truth.parquet")
    data = read_file(night / "hiscore.001")
    assert data.traces.shape[1:] == (9, 256)
    assert (data.sample_counts == 256).all()
    assert (data.offsets == data.offsets[:, :1]).all()        # one DRS4 stop cell a record
    assert len(data.events) == int(truth["hiscore_stations"].sum())
    assert set(data.events["station"]) <= set(range(1, 29))
    assert set(data.events["event_number"]) == set(truth.loc[truth["hiscore_stations"] > 0, "event_number"])
    tr = data.traces.astype(np.float64) - 2048
    # block 8 is the analogue sum of the four anodes / 4
    assert np.abs(tr[:, 8] - tr[:, 0:8:2].mean(axis=1)).mean() < 3.0


def test_iact_file_spreads_each_event_over_18_boards(taiga_raw):
    night = _nights(taiga_raw, "taiga_iact")[0]
    data = read_file(night / "iact.001")
    truth = pd.read_parquet(night / "truth.parquet")
    trig = truth[truth["triggered"]]
    assert len(data.packages) == 18 * len(trig)
    assert (data.events["n_packages"] == 18).all()
    assert np.array_equal(data.board.reshape(-1, 18), np.tile(np.arange(18), (len(trig), 1)))
    assert np.array_equal(data.events["event_number"], trig["event_number"])
    assert np.array_equal(data.events["time_ns"], trig["time_ns"])
    assert set(trig["particle"]) == {"gamma", "proton"}
    assert (truth.loc[~truth["triggered"], "event_number"] == -1).all()


def test_truth_and_exposure_sidecars(taiga_raw):
    total = {}
    for night in _nights(taiga_raw, "tunka133"):
        exposure = json.loads((night / "exposure.json").read_text())
        meta = pq.read_schema(night / "truth.parquet").metadata
        assert json.loads(meta[b"dlclab.exposure"]) == exposure
        assert exposure["area_m2"] > 5e5 and exposure["live_time_s"] > 0
        assert (exposure["zenith_min_deg"], exposure["zenith_max_deg"]) == (0.0, 45.0)
        truth = pd.read_parquet(night / "truth.parquet")
        assert truth["energy_eV"].between(1e15, 1e18).all() and truth["zenith_deg"].le(45).all()
        assert set(truth["corsika_id"]) <= {14, 402, 1206, 2814, 5426}
        rec = truth[truth["event_number"] > 0].iloc[0]
        assert rec["uuid"] == str(event_uuid("tunka133", rec["run"], rec["event_number"]))
        assert truth.loc[truth["event_number"] < 0, "uuid"].isna().all()
        total[night.name] = exposure
    # the live time is what the thrown showers need at the H3a rate
    e = next(iter(total.values()))
    assert abs(sum(x["live_time_s"] for x in total.values()) - e["total_live_time_s"]) < 1e-6
    rate = PrimaryFlux(e["energy_min_eV"], e["energy_max_eV"]).integral_rate_per_m2_s_sr()
    expected_n = rate * e["area_m2"] * e["projected_solid_angle_sr"] * e["total_live_time_s"]
    assert abs(expected_n - e["n_thrown"]) < 1e-6 * e["n_thrown"]
    table = e["effective_area"]
    assert sum(table["n_thrown"]) == e["n_thrown"]
    area = np.array([a if a is not None else np.nan for a in table["effective_area_m2"]])
    assert np.nanmax(area) <= e["area_m2"] and area[0] < np.nanmax(area)   # rises from threshold
    iact = json.loads((_nights(taiga_raw, "taiga_iact")[0] / "exposure.json").read_text())
    assert iact["gamma"]["area_m2"] > 0 and iact["proton"]["solid_angle_sr"] > 0


def _digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = simulate_taiga_sample(tmp_path / "a", seed=5, scale=0.25)
    b = simulate_taiga_sample(tmp_path / "b", seed=5, scale=0.25)
    c = simulate_taiga_sample(tmp_path / "c", seed=6, scale=0.25)
    assert a["events"] == b["events"]
    da, db, dc = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert da == db and len(da) > 20
    common = set(da) & set(dc)
    assert all(da[k] != dc[k] for k in common if k.endswith(".001"))


def test_simulated_tunka133_traces_resemble_the_real_sample(taiga_raw, taiga_fixtures):
    """Baselines, noise, used channels and pulse positions as in the real t133.001."""
    def stats(fadc):
        f = fadc.astype(np.float64)
        base = np.median(f, axis=2)
        noise = np.median(f[:, 0:28:2, :300].std(axis=2))
        amp = f.max(axis=2) - base
        pulsed = amp[:, 0:28:4] > 50
        pos = f[:, 0:28:4].argmax(axis=2)[pulsed]
        return np.median(base), noise, np.median(pos), np.percentile(amp[:, 1:28:2], 95)

    real = stats(read_file(taiga_fixtures / "t133.001").fadc)
    night = _nights(taiga_raw, "tunka133")[0]
    sim = stats(read_file(night / "t133_c01.001").fadc)
    assert abs(sim[0] - real[0]) < 20            # baseline near 2048
    assert 0.5 < sim[1] / real[1] < 2.0          # noise of a quiet channel, ~1 count
    assert abs(sim[2] - real[2]) < 40            # pulses near the end of the buffer
    assert sim[3] < 10 and real[3] < 10          # odd channels carry no pulses in either


def test_large_runs_are_split_into_numbered_files(tmp_path):
    from dlclab.simulate.taiga import simulate_iact, simulate_tunka_array

    iact = simulate_iact(tmp_path, n_gamma=400, n_proton=400, seed=2, events_per_file=100, chunk=170)
    raw = [p for p in iact["files"] if p.name.startswith("iact.")]
    assert [p.name for p in raw] == [f"iact.{i:03d}" for i in range(1, len(raw) + 1)]
    numbers = np.concatenate([read_file(p).events["event_number"] for p in raw])
    assert len(numbers) == iact["events"]["taiga_iact"] and len(raw) == -(-len(numbers) // 100)
    assert np.array_equal(numbers, np.arange(1, len(numbers) + 1))

    t133 = simulate_tunka_array(tmp_path, n_showers=300, seed=2, clusters=[1], n_nights=1,
                                facilities=["tunka133"], throw_radius_m=300.0,
                                events_per_file={"tunka133": 25})
    parts = sorted(p for p in t133["files"] if p.name.startswith("t133_c01."))
    assert len(parts) >= 2
    ev = pd.concat([read_file(p).events for p in parts])["event_number"].to_numpy()
    assert np.all(np.diff(ev) > 0) and len(ev) == t133["events"]["tunka133"]
