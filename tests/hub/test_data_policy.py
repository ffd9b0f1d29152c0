"""The data policy on disk: collaboration data readable by its group only, public data by
everyone, applied idempotently (no hub needed; root only: it changes owners)."""
from __future__ import annotations

import grp
import shutil
import stat
from pathlib import Path

import pytest

from dlclab.hub import unix


@pytest.fixture
def data_root(tmp_path: Path, taiga_fixtures: Path, sample_data_root: Path) -> Path:
    """A small data root: a real raw TAIGA file, the manifests of a collaboration and a
    public release of the sample (manifests only), a catalogue; all private at first."""
    root = tmp_path / "data"
    raw = root / "raw" / "taiga" / "tunka133" / "2024-01-01"
    raw.mkdir(parents=True)
    shutil.copy(taiga_fixtures / "t133.001", raw / "t133.001")
    for experiment, release in (("taiga", "T2020.1"), ("taiga", "T2020.1-EDU"), ("kascade", "OCEANUS")):
        target = root / "releases" / experiment / release
        target.mkdir(parents=True)
        shutil.copy(sample_data_root / "releases" / experiment / release / "manifest.json", target)
        (target / "events.parquet").write_bytes(b"PAR1")
    (root / "catalogs").mkdir()
    (root / "catalogs" / "dlc.yaml").write_text("version: 2\n")
    (root / "metadata").mkdir()
    (root / "metadata" / "catalogue.sqlite").write_bytes(b"SQLite format 3\x00")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    for parquet in root.glob("releases/*/*/events.parquet"):
        parquet.chmod(0o400)  # releases are immutable
    return root


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_collaboration_data_is_for_its_group_public_data_for_all(data_root: Path):
    changes = unix.apply_data_policy(data_root)
    assert changes
    taiga_gid = grp.getgrnam("taiga").gr_gid
    raw_file = next((data_root / "raw" / "taiga").rglob("t133.001"))
    for path in (data_root / "raw" / "taiga", raw_file, data_root / "releases" / "taiga" / "T2020.1",
                 data_root / "releases" / "taiga" / "T2020.1" / "events.parquet"):
        assert path.stat().st_gid == taiga_gid, path
        assert mode(path) & 0o007 == 0, f"{path} readable by others"
        assert mode(path) & stat.S_IRGRP, f"{path} not readable by the group"
    assert mode(data_root / "releases" / "taiga" / "T2020.1" / "events.parquet") == 0o440  # still read-only
    for path in (data_root, data_root / "catalogs" / "dlc.yaml",
                 data_root / "releases" / "kascade" / "OCEANUS" / "events.parquet"):
        assert mode(path) & stat.S_IROTH, f"{path} not readable by everyone"


def test_folders_outside_the_public_trees_are_left_alone(data_root: Path):
    """The metadata database is the aggregation service's: users must not read it directly."""
    unix.apply_data_policy(data_root)
    assert mode(data_root / "metadata") == 0o700
    assert mode(data_root / "metadata" / "catalogue.sqlite") == 0o600


def test_policy_is_idempotent(data_root: Path):
    unix.apply_data_policy(data_root)
    assert unix.apply_data_policy(data_root) == []


def test_internal_release_hidden_public_teaching_release_open(data_root: Path):
    """releases/taiga holds the internal T2020.1 and the public teaching release T2020.1-EDU:
    the folder stays listable, the internal release is closed to others, the public one open."""
    unix.apply_data_policy(data_root)
    assert mode(data_root / "releases" / "taiga") & 0o005 == 0o005
    assert mode(data_root / "releases" / "taiga" / "T2020.1") & 0o007 == 0
    assert mode(data_root / "releases" / "taiga" / "T2020.1-EDU") & 0o005 == 0o005
    assert mode(data_root / "releases" / "kascade") & 0o005 == 0o005
