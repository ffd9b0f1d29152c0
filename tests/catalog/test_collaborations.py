"""Collaboration releases in the Intake catalogues: the public files name none of them;
each collaboration's own file lists them; opening the catalogue merges in the files the
reader may read (those it may not are simply absent), checked as a real other user."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dlclab.catalog import open_lab_catalog, write_catalogs
from dlclab.store import DataRoot

INTERNAL = "T2020.1"  # collaboration:taiga in the sample; T2020.1-EDU is public


def _names(doc: dict) -> set[str]:
    return set(doc["metadata"]["releases"])


def test_public_files_name_no_internal_release(sample_data_root: Path):
    catalogs = sample_data_root / "catalogs"
    taiga = yaml.safe_load((catalogs / "taiga.yaml").read_text())
    assert _names(taiga) == {"T2020.1-EDU"}
    assert taiga["user_parameters"]["release"]["options"] == ["T2020.1-EDU"]
    for name in ("dlc.yaml", "kcdc.yaml", "taiga.yaml"):
        text = (catalogs / name).read_text()
        assert f"{INTERNAL}:" not in text and f"- {INTERNAL}\n" not in text, name
    own = yaml.safe_load((catalogs / "collaborations" / "taiga" / "taiga.yaml").read_text())
    assert _names(own) == {INTERNAL}
    assert not (catalogs / "collaborations" / "taiga" / "kcdc.yaml").exists()


def test_a_reader_of_the_collaboration_file_sees_both(sample_catalog_path: Path):
    taiga = open_lab_catalog(str(sample_catalog_path)).taiga.read()
    assert taiga.user_parameters["release"].options == [INTERNAL, "T2020.1-EDU"]
    assert set(taiga.metadata["releases"]) == {INTERNAL, "T2020.1-EDU"}
    cat = open_lab_catalog(str(sample_catalog_path), release=INTERNAL)
    assert len(cat.taiga["datasets"].read()) > 0


def test_the_merged_catalogue_is_what_one_writer_would_write(sample_data_root: Path):
    """Merging public + collaboration files gives exactly the catalogue of all releases."""
    from dlclab.catalog.readers import open_subcatalog
    from dlclab.catalog.writer import taiga_catalog
    from dlclab.store.manifest import Manifest

    catalogs = sample_data_root / "catalogs"
    merged = open_subcatalog(str(catalogs / "taiga.yaml"), str(catalogs / "collaborations"))
    every = taiga_catalog([Manifest.read(p) for p in DataRoot(sample_data_root).release_dirs()
                           if p.parent.name == "taiga"])
    assert merged.metadata["releases"] == every["metadata"]["releases"]
    assert merged.user_parameters["release"].options == every["user_parameters"]["release"]["options"]


def test_no_collaboration_folder_is_no_error(sample_data_root: Path, tmp_path: Path):
    """A data root with public releases only (or a mirror that cannot be listed)."""
    release = DataRoot(sample_data_root).release_dir("kascade", "NABOO")
    shutil.copytree(release, tmp_path / "releases" / "kascade" / "NABOO")
    write_catalogs([tmp_path / "releases" / "kascade" / "NABOO"], tmp_path / "catalogs")
    assert not (tmp_path / "catalogs" / "collaborations").exists()
    cat = open_lab_catalog(str(tmp_path / "catalogs" / "dlc.yaml"))
    assert cat.kcdc.read().user_parameters["release"].options == ["NABOO"]
    # TAIGA lists nothing here, and says so when asked for a release
    assert cat.taiga.read().user_parameters["release"].options == []
    with pytest.raises(Exception, match="valid releases: none"):
        cat.taiga(release="T2020.1")


def test_a_release_no_longer_internal_leaves_the_collaboration_file(sample_data_root: Path,
                                                                    tmp_path: Path):
    import json

    manifests = [json.loads((p / "manifest.json").read_text())
                 for p in DataRoot(sample_data_root).release_dirs()]
    write_catalogs(manifests, tmp_path)
    assert (tmp_path / "collaborations" / "taiga" / "taiga.yaml").exists()
    for m in manifests:
        m["access"] = "public"
    write_catalogs(manifests, tmp_path)
    assert not (tmp_path / "collaborations" / "taiga" / "taiga.yaml").exists()
    assert INTERNAL in _names(yaml.safe_load((tmp_path / "taiga.yaml").read_text()))


@pytest.fixture
def open_copy(sample_data_root: Path) -> Iterator[Path]:
    """The sample's catalogues (and the data policy's modes) where anyone may traverse."""
    if os.geteuid() != 0:
        pytest.fail("needs root (another system user reads the catalogue)")
    root = Path(tempfile.mkdtemp(prefix="dlclab-catalogs-"))
    os.chmod(root, 0o755)
    shutil.copytree(sample_data_root / "catalogs", root / "catalogs", symlinks=True)
    from dlclab.hub import unix

    unix.apply_data_policy(root)  # what the lab does at start: collaboration file -> taiga
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_another_user_sees_the_public_releases_only(open_copy: Path):
    """``nobody`` (in no collaboration) opens the catalogue: no error, no internal release,
    and the TAIGA collaboration's file is refused."""
    script = textwrap.dedent(f"""
        from dlclab.catalog import open_lab_catalog
        cat = open_lab_catalog({str(open_copy / "catalogs" / "dlc.yaml")!r})
        print(sorted(cat.taiga.read().user_parameters["release"].options))
        try:
            open({str(open_copy / "catalogs" / "collaborations" / "taiga" / "taiga.yaml")!r}).read()
            print("READ")
        except PermissionError:
            print("refused")
    """)
    done = subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["['T2020.1-EDU']", "refused"], done.stdout
