"""dlclab convert on KCDC exports, and dlclab sample reruns."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from dlclab.cli import main as dlclab_main
from dlclab.errors import ParameterError
from dlclab.store import DataRoot, Manifest, ReleaseInfo, verify_release
from dlclab.store.convert import convert_kcdc_exports
from dlclab.store.sample import WA, SampleError, build_sample


def test_ascii_export_converts_to_the_same_events_as_hdf5(sample_data_root, tmp_path, capsys):
    """The same selection exported as ASCII and HDF5 gives the same release rows."""
    ascii_dir = sample_data_root / "raw" / "kcdc" / "OCEANUS" / f"{WA}_ASCII"
    assert dlclab_main(["convert", str(ascii_dir), "--release", "VULCAN", "--version", "2",
                        "--out", str(tmp_path), "--no-progress"]) == 0
    assert "built" in capsys.readouterr().out
    release = tmp_path / "releases" / "kascade" / "VULCAN"
    manifest = verify_release(release)
    assert manifest.info.kind == "measured" and manifest.info.access == "public"
    from_ascii = pd.read_parquet(release / "events").set_index("uuid").sort_index()
    from_hdf5 = pd.read_parquet(DataRoot(sample_data_root).release_dir("kascade", "OCEANUS") / "events",
                                filters=[("dataset", "==", WA)]).set_index("uuid").sort_index()
    assert from_ascii.index.equals(from_hdf5.index)
    for col in ("run", "event", "time", "energy_eV", "zenith_deg", "azimuth_deg", "core_x_m",
                "ne", "nmu", "age", "temperature_degC", "grande_nch", "n_had"):
        np.testing.assert_array_equal(from_ascii[col].to_numpy(), from_hdf5[col].to_numpy(), err_msg=col)
    assert from_ascii["n_stations"].isna().all() and from_hdf5["n_stations"].notna().all()
    # ASCII exports have no arrays: the stations table exists and is empty
    assert len(pd.read_parquet(release / "stations")) == 0


def test_one_data_set_from_two_exports_is_refused(sample_data_root, tmp_path):
    base = sample_data_root / "raw" / "kcdc" / "OCEANUS"
    with pytest.raises(ParameterError, match="two exports"):
        convert_kcdc_exports([base / f"{WA}_ASCII", base / f"{WA}_ROOT"], tmp_path,
                             ReleaseInfo("kascade", "TWICE", "1"))
    assert DataRoot(tmp_path).release_dirs() == []


def test_sample_rerun_is_idempotent_and_refuses_changed_files(sample_data_root, tmp_path):
    root = tmp_path / "data"
    for part in ("raw", "releases", "catalogs"):
        shutil.copytree(sample_data_root / part, root / part)
    manifests = {p: (p / "manifest.json").read_bytes() for p in DataRoot(root).release_dirs()}
    def catalog_files() -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes()
                for p in (root / "catalogs").rglob("*.yaml")}

    catalogs = catalog_files()
    report = build_sample(root)
    statuses = {what: status for what, status, _ in report.steps}
    assert set(statuses.values()) == {"exists", "written"}, statuses
    assert {p: (p / "manifest.json").read_bytes() for p in DataRoot(root).release_dirs()} == manifests
    assert catalog_files() == catalogs
    # a raw file changed by hand is reported, not silently rebuilt or overwritten
    victim = next((root / "raw" / "taiga" / "tunka133").rglob("*.001"))
    victim.chmod(0o644)
    with open(victim, "r+b") as f:
        f.seek(100)
        f.write(b"\x00")
    with pytest.raises(SampleError, match=victim.name):
        build_sample(root)


def test_sample_builds_a_missing_release_again(sample_data_root, tmp_path):
    """A deleted release is rebuilt from the raw data (the others are left alone)."""
    root = tmp_path / "data"
    for part in ("raw", "releases"):
        shutil.copytree(sample_data_root / part, root / part)
    shutil.rmtree(root / "releases" / "kascade" / "NABOO")
    report = build_sample(root)
    statuses = {what: status for what, status, _ in report.steps}
    assert statuses["release kascade/NABOO"] == "built"
    assert statuses["release kascade/OCEANUS"] == "exists"
    rebuilt = Manifest.read(root / "releases" / "kascade" / "NABOO")
    original = Manifest.read(DataRoot(sample_data_root).release_dir("kascade", "NABOO"))
    assert rebuilt.files == original.files  # same sources, same bytes
    assert (root / "catalogs" / "kcdc.yaml").exists()
