"""TAIGA: raw files -> event tables and IACT images (sample release and real files)."""
from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from dlclab.cli import main as dlclab_main
from dlclab.errors import FormatError
from dlclab.formats.taiga import read_file
from dlclab.instruments.taiga import channel_to_pixel
from dlclab.store import DataRoot, Manifest, verify_release
from dlclab.store.sample import TAIGA_RELEASE


@pytest.fixture(scope="module")
def taiga_release(sample_data_root):
    return DataRoot(sample_data_root).release_dir("taiga", TAIGA_RELEASE.release)


def test_images_are_the_raw_packages_on_the_camera(sample_data_root, taiga_release):
    raw = sorted((sample_data_root / "raw" / "taiga" / "taiga_iact").rglob("iact.*"))[0]
    data = read_file(raw)
    images = xr.open_zarr(taiga_release / "iact_images.zarr")
    number = int(data.packages["event_number"][0])
    pos = np.flatnonzero((images["event_number"].values == number)
                         & (images["file"].values.astype(object) == raw.relative_to(
                             sample_data_root / "raw" / "taiga").as_posix()))
    assert len(pos) == 1
    image = images["high_gain"].isel(event=int(pos[0])).values
    table = channel_to_pixel()
    packages = np.flatnonzero(data.packages["event_number"] == number)
    assert len(packages) == 18
    for k in packages:
        board = int(data.board[k])
        connected = table[board] >= 0
        np.testing.assert_array_equal(image[table[board][connected]],
                                      data.high_gain[k][connected].astype(np.float32))
    assert not np.isnan(image).any()  # all 18 boards read out: every pixel has a value
    assert {"pixel_x_deg", "pixel_y_deg", "pixel_x_m", "pixel_neighbors"} <= set(images.coords)
    assert images["image_pe"].attrs["unit"] == "pe"


def test_calibrated_images_follow_the_true_light(taiga_release):
    images = xr.open_zarr(taiga_release / "iact_images.zarr")
    size = images["image_pe"].where(images["image_pe"] > 5).sum("pixel").values
    true_size = images["true_size_pe"].values
    # pedestal and gain applied: the cleaned image size is the true light (+ noise)
    assert 0.8 < np.median(size / true_size) < 1.25
    assert np.corrcoef(np.log10(size), np.log10(true_size))[0, 1] > 0.8
    assert set(images["true_particle"].values.astype(object)) == {"gamma", "proton"}


def test_truth_joined_by_night_and_event(sample_data_root, taiga_release):
    events = pd.read_parquet(taiga_release / "events", filters=[("facility", "==", "tunka133")])
    assert events["true_energy_eV"].notna().all()
    truth = pd.concat([pd.read_parquet(p) for p in
                       (sample_data_root / "raw" / "taiga" / "tunka133").rglob("truth.parquet")])
    merged = events.merge(truth[truth["event_number"] >= 0], left_on=["run", "event"],
                          right_on=["run", "event_number"])
    assert len(merged) == len(events)
    np.testing.assert_array_equal(merged["true_energy_eV"], merged["energy_eV_y"])
    assert (merged["uuid_x"] == merged["uuid_y"]).all()  # one identity with the simulator
    # a shower seen by several clusters: several rows, one uuid
    per_uuid = events.groupby("uuid")["cluster"].nunique()
    assert per_uuid.max() > 1
    manifest = Manifest.read(taiga_release)
    assert manifest.datasets["tunka133"]["exposure"]["live_time_s"] > 0
    assert manifest.datasets["tunka133"]["n_showers"] == events["uuid"].nunique()


def test_real_files_convert_with_a_date(taiga_fixtures, tmp_path, capsys):
    sources = [str(taiga_fixtures / "t133.001"), str(taiga_fixtures / "iact.001")]
    assert dlclab_main(["convert", *sources, "--release", "TREAL", "--out", str(tmp_path),
                        "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "iact.001" in err and "date folder" in err
    assert dlclab_main(["convert", *sources, "--release", "TREAL", "--date", "2019-12-20",
                        "--out", str(tmp_path), "--no-progress"]) == 0
    release = tmp_path / "releases" / "taiga" / "TREAL"
    manifest = verify_release(release)
    assert manifest.info.kind == "measured" and manifest.info.access == "collaboration:taiga"
    events = pd.read_parquet(release / "events")
    t133 = events[events["facility"] == "tunka133"]
    assert len(t133) == 119 and sorted(t133["event"]) == list(range(1, 120))
    assert t133["time"].min() == pd.Timestamp(dt.datetime(2019, 12, 20, 13, 40, 33, 3000), tz="UTC")
    assert (t133["cluster"] == 1).all()
    images = xr.open_zarr(release / "iact_images.zarr")
    assert images.sizes["event"] == 2995
    hg = images["high_gain"].values
    covered = ~np.isnan(hg)
    board0 = channel_to_pixel()[0]
    assert covered.sum(axis=1).tolist() == [int((board0 >= 0).sum())] * 2995
    assert np.nanmin(hg) == 632 and np.nanmax(hg) == 8249
    assert "image_pe" not in images  # no calibration for the real file
    # the converter's catalogues list the new (collaboration) release in the collaboration's
    # file only, and the merged view of a reader who may read that file shows it
    assert "TREAL" not in (tmp_path / "catalogs" / "taiga.yaml").read_text()
    assert "TREAL" in (tmp_path / "catalogs" / "collaborations" / "taiga" / "taiga.yaml").read_text()
    from dlclab.catalog import open_lab_catalog

    assert "TREAL" in open_lab_catalog(str(tmp_path / "catalogs" / "dlc.yaml")).taiga.read() \
        .user_parameters["release"].options
    # converting the same files again is a no-op
    assert dlclab_main(["convert", *sources, "--release", "TREAL", "--date", "2019-12-20",
                        "--out", str(tmp_path), "--no-progress", "--no-catalogs"]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_convert_refuses_a_corrupt_raw_file(taiga_fixtures, tmp_path, capsys):
    night = tmp_path / "raw" / "tunka133" / "2019-12-20"
    night.mkdir(parents=True)
    bad = night / "t133.001"
    shutil.copyfile(taiga_fixtures / "t133.001", bad)
    with open(bad, "r+b") as f:
        f.truncate(33318 * 3 + 100)
    assert dlclab_main(["convert", str(bad), "--release", "TBAD", "--out", str(tmp_path / "root"),
                        "--no-progress"]) == 1
    assert f"{bad}" in capsys.readouterr().err
    with pytest.raises(FormatError, match="t133.001"):
        from dlclab.store.convert import convert_taiga_raw
        from dlclab.store.manifest import ReleaseInfo

        convert_taiga_raw([bad], tmp_path / "root", ReleaseInfo("taiga", "TBAD", "1"))
    assert not (tmp_path / "root" / "releases" / "taiga" / "TBAD").exists()
