"""The sample releases `make data` built: integrity, schema, identity, content."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from dlclab.cli import main as dlclab_main
from dlclab.identity import event_uuid
from dlclab.store import DataRoot, IntegrityError, Manifest, verify_release
from dlclab.store.sample import KASCADE_RELEASES, TAIGA_EDU_RELEASE, TAIGA_RELEASE, WA

EXPECTED = ({("kascade", name) for name in KASCADE_RELEASES}
            | {("taiga", TAIGA_RELEASE.release), ("taiga", TAIGA_EDU_RELEASE.release)})


def _release(root: Path, experiment: str, name: str) -> Path:
    return DataRoot(root).release_dir(experiment, name)


def test_sample_has_the_releases_and_all_verify(sample_data_root):
    dirs = DataRoot(sample_data_root).release_dirs()
    assert {(p.parent.name, p.name) for p in dirs} == EXPECTED
    for d in dirs:
        manifest = verify_release(d)
        on_disk = {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()}
        assert set(manifest.files) == on_disk - {"manifest.json"}
        assert all(len(v["sha256"]) == 64 and v["bytes"] > 0 for v in manifest.files.values())
        for key in ("experiment", "release", "version", "created", "licence", "doi", "access"):
            assert key in manifest.to_dict()
        assert all("exposure" in ds and ds["exposure"] for ds in manifest.datasets.values())
    taiga = Manifest.read(_release(sample_data_root, "taiga", TAIGA_RELEASE.release))
    assert taiga.info.access == "collaboration:taiga"
    edu = Manifest.read(_release(sample_data_root, "taiga", TAIGA_EDU_RELEASE.release))
    assert edu.info.access == "public"
    assert {p.name for p in _release(sample_data_root, "taiga", TAIGA_EDU_RELEASE.release).iterdir()} >= {"iact_images.zarr"}
    assert Manifest.read(_release(sample_data_root, "kascade", "OCEANUS")).info.access == "public"


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def test_verify_names_a_flipped_byte(sample_data_root, tmp_path, capsys):
    copy = _copy(_release(sample_data_root, "kascade", "NABOO"), tmp_path / "NABOO")
    assert dlclab_main(["verify", "--no-progress", str(copy)]) == 0
    victim = next(copy.glob("events/experiment=kascade/release=NABOO/*.parquet"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    capsys.readouterr()
    assert dlclab_main(["verify", "--no-progress", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and victim.relative_to(copy).as_posix() in err and "sha256" in err
    with pytest.raises(IntegrityError) as exc:
        verify_release(copy)
    assert [p.split(":")[0] for p in exc.value.problems] == [victim.relative_to(copy).as_posix()]


def test_verify_catches_missing_extra_and_manifest_changes(sample_data_root, tmp_path):
    copy = _copy(_release(sample_data_root, "kascade", "NABOO"), tmp_path / "NABOO")
    (copy / "datasets.parquet").unlink()
    (copy / "stray.txt").write_text("x")
    with pytest.raises(IntegrityError) as exc:
        verify_release(copy)
    assert any(p.startswith("datasets.parquet: missing") for p in exc.value.problems)
    assert any(p.startswith("stray.txt: not in the manifest") for p in exc.value.problems)
    manifest = copy / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["access"] = "public" if doc["access"] != "public" else "collaboration:x"
    manifest.write_text(json.dumps(doc))
    with pytest.raises(IntegrityError, match="manifest.json"):
        verify_release(copy)


def test_uuids_are_stable_across_releases(sample_data_root):
    cols = ["uuid", "run", "event", "energy_eV"]
    filt = [("dataset", "==", WA)]
    naboo = pd.read_parquet(_release(sample_data_root, "kascade", "NABOO") / "events", columns=cols, filters=filt)
    oceanus = pd.read_parquet(_release(sample_data_root, "kascade", "OCEANUS") / "events", columns=cols,
                              filters=filt)
    assert len(naboo) == len(oceanus) > 1000
    merged = naboo.merge(oceanus, on=["run", "event"], suffixes=("_naboo", "_oceanus"))
    assert len(merged) == len(naboo)
    assert (merged["uuid_naboo"] == merged["uuid_oceanus"]).all()
    assert naboo["uuid"].is_unique
    row = naboo.iloc[7]
    assert row["uuid"] == str(event_uuid("KASCADE", row["run"], row["event"]))


def test_unified_schema_with_units(sample_data_root):
    kascade = pq.read_schema(next((_release(sample_data_root, "kascade", "OCEANUS") / "events")
                                  .rglob("*.parquet")))
    taiga = pq.read_schema(next((_release(sample_data_root, "taiga", TAIGA_RELEASE.release) / "events")
                                .rglob("*.parquet")))
    shared = ["uuid", "run", "event", "time", "energy_eV", "zenith_deg", "azimuth_deg",
              "core_x_m", "core_y_m", "dataset"]
    for name in shared:
        assert kascade.field(name).type == taiga.field(name).type, name
    assert str(kascade.field("time").type) == "timestamp[ns, tz=UTC]"
    units = {f.name: (f.metadata or {}).get(b"unit", b"").decode() for f in kascade}
    assert units["energy_eV"] == "eV" and units["zenith_deg"] == "deg" and units["core_x_m"] == "m"
    assert units["pressure_hPa"] == "hPa" and kascade.field("ne").metadata[b"kcdc_name"] == b"Ne"
    t_units = {f.name: (f.metadata or {}).get(b"unit", b"").decode() for f in taiga}
    assert t_units["true_energy_eV"] == "eV" and t_units["time_ns"] == "ns"
    # partitioned by experiment and release, hive style
    parts = {p.parent.name for p in (_release(sample_data_root, "kascade", "OCEANUS") / "events").rglob("*.parquet")}
    assert parts == {"release=OCEANUS"}


def test_kascade_values_come_from_the_exports(sample_data_root):
    """The release's events are the export's events: same count, time = Gt + Mt, E in eV."""
    from dlclab.formats.kcdc import read_export

    export_dir = sample_data_root / "raw" / "kcdc" / "OCEANUS" / f"{WA}_HDF5"
    export = read_export(export_dir)
    general, array = export.tables["general"], export.tables["array"]
    events = pd.read_parquet(_release(sample_data_root, "kascade", "OCEANUS") / "events",
                             filters=[("dataset", "==", WA)])
    merged = events.merge(pd.DataFrame({"run": general["R"].astype("int64"), "event": general["Ev"].astype("int64"),
                                        "E": array["E"], "Ze": array["Ze"], "Gt": general["Gt"],
                                        "Mt": general["Mt"]}), on=["run", "event"])
    assert len(merged) == len(general) == len(events)
    np.testing.assert_allclose(merged["energy_eV"], merged["E"], rtol=1e-12)
    np.testing.assert_allclose(merged["zenith_deg"], merged["Ze"], rtol=1e-12)
    ns = merged["Gt"].astype("int64") * 1_000_000_000 + merged["Mt"].astype("int64")
    assert (merged["time"].astype("int64") == ns).all()
    assert merged["true_energy_eV"].isna().all()  # measured-like: no truth
    sim = pd.read_parquet(_release(sample_data_root, "kascade", "OCEANUS-SIM") / "events",
                          columns=["true_energy_eV", "energy_eV", "true_mass_number"])
    assert sim["true_energy_eV"].notna().all() and sim["true_mass_number"].between(1, 56).all()
    # stations: one row per event and station, joined on uuid
    stations = pd.read_parquet(_release(sample_data_root, "kascade", "OCEANUS") / "stations")
    counts = stations.groupby("uuid").size()
    wa = events.set_index("uuid")
    assert (wa.loc[counts.index, "n_stations"].to_numpy() == counts.to_numpy()).all()


def test_collaboration_data_are_listed_for_restriction(sample_data_root):
    from dlclab.store.access import restricted_paths

    layout = DataRoot(sample_data_root)
    restricted = dict(restricted_paths(sample_data_root))
    assert restricted[layout.raw_taiga] == "taiga"
    assert restricted[layout.release_dir("taiga", TAIGA_RELEASE.release)] == "taiga"
    # the experiment folder holds a public teaching release too, so it stays listable
    assert layout.experiment_dir("taiga") not in restricted
    assert layout.release_dir("taiga", TAIGA_EDU_RELEASE.release) not in restricted
    assert not any("kascade" in p.parts or "kcdc" in p.parts for p in restricted)


def test_exposure_reaches_the_datasets_table(sample_data_root):
    """An absolute flux needs area, live time and zenith range: every data set has them."""
    for d in DataRoot(sample_data_root).release_dirs():
        table = pd.read_parquet(d / "datasets.parquet")
        manifest = Manifest.read(d)
        assert sorted(table["dataset"]) == sorted(manifest.datasets)
        assert (table["live_time_s"] > 0).all()
        sims = table[table["simulation"]]
        for row in sims.itertuples():
            exposure = json.loads(row.exposure_json)
            assert exposure["area_m2"] > 0 and "zenith_max_deg" in exposure


def test_new_collaboration_data_are_closed_when_written(tmp_path, sample_data_root):
    """Written as root, a collaboration release is closed to others at once (group-owned
    2750), not only when the lab next applies its policy; public releases stay open."""
    import grp
    import os
    import stat

    from dlclab.store.access import restrict_new_data

    if os.geteuid() != 0:
        pytest.fail("needs root (the lab's permission model)")
    try:
        gid = grp.getgrnam("taiga").gr_gid
    except KeyError:
        subprocess_run = __import__("subprocess").run
        subprocess_run(["groupadd", "taiga"], check=True)
        gid = grp.getgrnam("taiga").gr_gid
    root = tmp_path / "data"
    for release in (TAIGA_RELEASE.release, TAIGA_EDU_RELEASE.release):
        target = root / "releases" / "taiga" / release
        target.mkdir(parents=True)
        shutil.copy(_release(sample_data_root, "taiga", release) / "manifest.json", target)
    os.chmod(root / "releases" / "taiga" / TAIGA_RELEASE.release, 0o755)
    restrict_new_data(root)
    internal = root / "releases" / "taiga" / TAIGA_RELEASE.release
    assert stat.S_IMODE(internal.stat().st_mode) == 0o2750 and internal.stat().st_gid == gid
    public = root / "releases" / "taiga" / TAIGA_EDU_RELEASE.release
    assert stat.S_IMODE(public.stat().st_mode) & 0o005 == 0o005
