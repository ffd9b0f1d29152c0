"""The data policy on disk: collaboration data readable by its group only, public data by
everyone, applied idempotently (no hub needed; root only: it changes owners)."""
from __future__ import annotations

import grp
import json
import shutil
import stat
from pathlib import Path

import pytest

from dlclab.errors import DlclabError
from dlclab.hub import unix


@pytest.fixture
def data_root(tmp_path: Path, taiga_fixtures: Path) -> Path:
    root = tmp_path / "data"
    raw = root / "raw" / "taiga" / "tunka133" / "2024-01-01"
    raw.mkdir(parents=True)
    shutil.copy(taiga_fixtures / "t133.001", raw / "t133.001")
    for experiment, access in (("taiga", "collaboration:taiga"), ("kascade", "public")):
        release = root / "releases" / experiment / "r1"
        release.mkdir(parents=True)
        (release / "manifest.json").write_text(json.dumps({"access": access, "files": {}}))
        (release / "events.parquet").write_bytes(b"PAR1")
    (root / "catalogs").mkdir()
    (root / "catalogs" / "dlc.yaml").write_text("version: 2\n")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    for parquet in root.glob("releases/*/r1/events.parquet"):
        parquet.chmod(0o400)  # releases are immutable
    return root


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_collaboration_data_is_for_its_group_public_data_for_all(data_root: Path):
    changes = unix.apply_data_policy(data_root)
    assert changes
    taiga_gid = grp.getgrnam("taiga").gr_gid
    raw_file = next((data_root / "raw" / "taiga").rglob("t133.001"))
    for path in (data_root / "raw" / "taiga", raw_file, data_root / "releases" / "taiga" / "r1",
                 data_root / "releases" / "taiga" / "r1" / "events.parquet"):
        assert path.stat().st_gid == taiga_gid, path
        assert mode(path) & 0o007 == 0, f"{path} readable by others"
        assert mode(path) & stat.S_IRGRP, f"{path} not readable by the group"
    assert mode(data_root / "releases" / "taiga" / "r1" / "events.parquet") == 0o440  # still read-only
    for path in (data_root, data_root / "catalogs" / "dlc.yaml",
                 data_root / "releases" / "kascade" / "r1" / "events.parquet",
                 data_root / "releases" / "taiga"):
        assert mode(path) & stat.S_IROTH, f"{path} not readable by everyone"


def test_policy_is_idempotent(data_root: Path):
    unix.apply_data_policy(data_root)
    assert unix.apply_data_policy(data_root) == []


def test_unknown_access_is_a_clear_error(data_root: Path):
    manifest = data_root / "releases" / "kascade" / "r1" / "manifest.json"
    manifest.write_text(json.dumps({"access": "collaboration:nobody"}))
    with pytest.raises(DlclabError, match="manifest.json.*collaboration:nobody"):
        unix.apply_data_policy(data_root)
