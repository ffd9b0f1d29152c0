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


def test_the_metadata_catalogue_is_created_private_whatever_the_umask(tmp_path: Path):
    """What `make data` runs (the catalogue's own code, not a chmod by the test): the
    folder 0700, the database 0600, even under a permissive umask; the data policy does
    not open it."""
    import os

    from dlclab.metadata.db import open_catalogue

    root = tmp_path / "data"
    (root / "catalogs").mkdir(parents=True)
    old = os.umask(0o022)
    try:
        engine = open_catalogue(f"sqlite:///{root / 'metadata' / 'catalogue.sqlite'}")
        engine.dispose()
    finally:
        os.umask(old)
    unix.apply_data_policy(root)
    assert mode(root / "metadata") == 0o700
    assert mode(root / "metadata" / "catalogue.sqlite") == 0o600


def test_staging_and_collaboration_catalogues_stay_closed(data_root: Path):
    """The release builder's staging folder stays private; a collaboration's catalogue
    folder goes to its group (others cannot even list it)."""
    staging = data_root / "releases" / ".staging"
    staging.mkdir(mode=0o700)
    collab = data_root / "catalogs" / "collaborations" / "taiga"
    collab.mkdir(parents=True)
    (collab / "taiga.yaml").write_text("version: 2\n")
    unix.apply_data_policy(data_root)
    assert mode(staging) == 0o700
    taiga_gid = grp.getgrnam("taiga").gr_gid
    for path in (collab, collab / "taiga.yaml"):
        assert path.stat().st_gid == taiga_gid and mode(path) & 0o007 == 0, path
        assert mode(path) & stat.S_IRGRP, path
    assert mode(data_root / "catalogs" / "collaborations") & 0o005 == 0o005


SERVICE = "dlclab-service"


def test_service_account_gets_its_private_folder(tmp_path: Path):
    """Root hands the meta-data folder to the service account: what root left there
    becomes the account's with no access for others; a symbolic link or a hard link the
    account planted is not followed."""
    import os
    import pwd

    unix.ensure_service_account(SERVICE, ["kascade", "taiga"])
    account = pwd.getpwnam(SERVICE)
    assert {"kascade", "taiga"} <= {g.gr_name for g in grp.getgrall() if SERVICE in g.gr_mem}
    folder = tmp_path / "metadata"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)  # an older checkout's open folder
    (folder / "catalogue.sqlite").write_bytes(b"SQLite format 3\x00")
    os.chmod(folder / "catalogue.sqlite", 0o644)
    victim = tmp_path / "victim"
    victim.write_text("root's")
    os.link(victim, folder / "hardlink")
    (folder / "symlink").symlink_to(victim)
    changes = unix.hand_over_private_dir(folder, SERVICE)
    assert changes
    st = folder.stat()
    assert (st.st_uid, mode(folder)) == (account.pw_uid, 0o700)
    db = (folder / "catalogue.sqlite").stat()
    assert (db.st_uid, mode(folder / "catalogue.sqlite")) == (account.pw_uid, 0o600)
    assert victim.stat().st_uid == 0 and mode(victim) == 0o644  # neither link was followed
    assert unix.hand_over_private_dir(folder, SERVICE) == []  # idempotent


def test_a_symbolic_link_as_private_folder_is_refused(tmp_path: Path):
    from dlclab.errors import DlclabError

    unix.ensure_service_account(SERVICE)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "metadata").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(DlclabError, match="not a symbolic link"):
        unix.hand_over_private_dir(tmp_path / "metadata", SERVICE)
    assert (tmp_path / "elsewhere").stat().st_uid == 0


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


def test_the_folders_above_the_data_root_are_never_opened(data_root: Path):
    """pytest's own folder above the data root is 0700: the policy leaves it so (it once
    made every ancestor o+x, /root included), and the lab's start check names it."""
    closed = [p for p in data_root.parents if mode(p) & 0o001 == 0]
    assert closed, "the fixture's data root should lie below a closed folder"
    before = {p: mode(p) for p in data_root.parents}
    unix.apply_data_policy(data_root)
    assert {p: mode(p) for p in data_root.parents} == before
    with pytest.raises(unix.DlclabError, match="not traversable by others") as refused:
        unix.require_reachable(data_root)
    assert all(str(p) in str(refused.value) for p in closed)


# ---- services.d: a service's system account ------------------------------------------
def _settings(tmp_path: Path, isolated: bool = True):
    from dlclab.hub.settings import LabSettings

    return LabSettings(data_root=tmp_path / "data", state_dir=tmp_path / "state",
                       hub_dir=tmp_path / "hub", isolated=isolated)


def test_shipped_aggregation_service_runs_as_its_account(tmp_path: Path):
    """The shipped definition: not root, in the collaboration groups, owning data/metadata
    (its catalogue and exports); without root (one OS user) it runs as the hub's user."""
    import yaml

    from dlclab import config
    from dlclab.hub.services import parse_service

    raw = yaml.safe_load((config.PROJECT_ROOT / "hub" / "services.d" /
                          "data-aggregation.yaml").read_text())
    spec = parse_service(raw, _settings(tmp_path))
    assert spec.hub_entry["user"] == spec.account == "dlclab-service"
    assert spec.account_groups == ["kascade", "taiga"]
    assert spec.owns == [tmp_path / "data" / "metadata"]
    assert str(tmp_path / "data" / "metadata") in " ".join(spec.hub_entry["command"])
    shared = parse_service(raw, _settings(tmp_path, isolated=False))
    assert "user" not in shared.hub_entry and shared.account is None and shared.owns == []


@pytest.mark.parametrize(("extra", "message"), [
    ({"user": "root"}, "other than root"),
    ({"user": "svc", "groups": ["wheel"]}, "lab groups"),
    ({"groups": ["taiga"]}, "add 'user'"),
    ({"user": "svc", "owns": ["relative/dir"]}, "absolute path"),
    ({"user": "svc", "owns": "/srv/x"}, "list of folders"),
])
def test_bad_service_accounts_are_refused(tmp_path: Path, extra: dict, message: str):
    from dlclab.errors import DlclabError
    from dlclab.hub.services import parse_service

    with pytest.raises(DlclabError, match=message):
        parse_service({"name": "x", **extra}, _settings(tmp_path))
