"""Copying a release between two instances (In2): checksums verified at the source (the
server's sha256) and after the copy, idempotent, a damaged copy repaired, a source whose
file no longer matches its manifest refused; the destination serves the copy."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from dlclab.cli import main as dlclab
from dlclab.errors import DlclabError
from dlclab.storage.config import load_instances
from dlclab.storage.lab import StorageLab
from dlclab.storage.transfer import copy_release
from dlclab.store.manifest import Manifest
from tests.metadata.builders import build_release
from tests.xrootd.conftest import xrdfs


@pytest.fixture(scope="module")
def two_sites():
    base = Path(tempfile.mkdtemp(prefix="dlclab-xrootd-copy-"))
    base.chmod(0o755)
    for site in ("isu", "kit"):
        (base / site / "releases" / "taiga").mkdir(parents=True)
    build_release(base / "isu" / "releases", "taiga", "TCOPY", "public", n_events=40, seed=3)
    subprocess.run(["chmod", "-R", "a+rX", str(base)], check=True)
    config = {"instances": [
        {"name": "isu-taiga", "root": str(base / "isu"), "public_port": None,
         "exports": [{"path": "/releases/taiga", "access": "public"}]},
        {"name": "kit-kascade", "root": str(base / "kit"), "public_port": None,
         "exports": [{"path": "/releases/taiga", "access": "public"}]}]}
    (base / "instances.yaml").write_text(yaml.safe_dump(config))
    lab = StorageLab(load_instances(base, base / "instances.yaml"), base / "state")
    lab.start()
    yield base, lab
    lab.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_copy_is_verified_idempotent_and_served_by_the_destination(two_sites):
    base, lab = two_sites
    src, dst = lab.server("isu-taiga"), lab.server("kit-kascade")
    key = lab.keys_dir / "dlclab-service.keytab"
    url = f"{src.url}/releases/taiga/TCOPY"
    target = base / "kit" / "releases" / "taiga" / "TCOPY"
    first = copy_release(url, target, key)
    manifest = Manifest.read(base / "isu" / "releases" / "taiga" / "TCOPY")
    assert sorted(first.copied) == sorted(manifest.files) and not first.skipped
    # again: nothing copied
    again = copy_release(url, target, key)
    assert again.copied == [] and sorted(again.skipped) == sorted(manifest.files)
    # a damaged file at the destination is copied again, the rest skipped
    rel, expected = sorted(manifest.files.items())[0]
    (target / rel).write_bytes(b"damaged")
    repair = copy_release(url, target, key)
    assert repair.copied == [rel]
    # the destination instance serves the copy, and its checksum is the manifest's
    out = xrdfs(dst.url, "query", "checksum", f"/releases/taiga/TCOPY/{rel}", keytab=key)
    assert out.stdout.split() == ["sha256", expected["sha256"]], out.stderr


def test_the_command_line_and_a_source_that_no_longer_matches(two_sites, capsys):
    base, lab = two_sites
    key = lab.keys_dir / "dlclab-service.keytab"
    url = f"{lab.server('isu-taiga').url}/releases/taiga/TCOPY"
    target = base / "kit" / "releases" / "taiga" / "TCOPY-CLI"
    assert dlclab(["storage", "copy", url, str(target), "--keytab", str(key)]) == 0
    assert '"skipped": 0' in capsys.readouterr().out
    source = base / "isu" / "releases" / "taiga" / "TCOPY"
    rel = sorted(Manifest.read(source).files)[-1]
    (source / rel).write_bytes(b"changed at the source")
    fresh = base / "kit" / "releases" / "taiga" / "TCOPY-2"
    with pytest.raises(DlclabError, match="at the source"):
        copy_release(url, fresh, key)
    assert not (fresh / "manifest.json").exists()  # not a complete release
