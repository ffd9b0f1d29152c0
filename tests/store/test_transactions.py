"""Releases are built transactionally and never overwritten."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlclab.store import DataRoot, ReleaseExistsError, ReleaseInfo, build_release, verify_release
from dlclab.store.layout import MANIFEST

INFO = ReleaseInfo("kascade", "WOLF359", "1", title="transaction test")


def _writer(payload: bytes, calls: list | None = None):
    def write(tmp: Path) -> dict:
        if calls is not None:
            calls.append(tmp)
        (tmp / "events").mkdir()
        (tmp / "events" / "part.bin").write_bytes(payload)
        return {"d": {"n_events": 1, "exposure": {"live_time_s": 1.0}}}
    return write


def test_build_commits_whole_release_with_manifest(tmp_path):
    result = build_release(tmp_path, INFO, [], _writer(b"abc"))
    assert result.status == "built"
    target = tmp_path / "releases" / "kascade" / "WOLF359"
    assert result.release_dir == target
    manifest = verify_release(target)
    assert set(manifest.files) == {"events/part.bin"}
    assert manifest.files["events/part.bin"]["bytes"] == 3
    assert manifest.info.access == "public" and manifest.datasets["d"]["n_events"] == 1
    assert [p.name for p in (tmp_path / "releases" / "kascade").iterdir()] == ["WOLF359"]


def test_rerun_identical_is_noop_and_different_is_refused(tmp_path):
    calls: list = []
    build_release(tmp_path, INFO, [], _writer(b"abc", calls), parameters={"seed": 1})
    target = tmp_path / "releases" / "kascade" / "WOLF359"
    before = (target / MANIFEST).read_bytes()
    again = build_release(tmp_path, INFO, [], _writer(b"abc", calls), parameters={"seed": 1})
    assert again.status == "unchanged" and len(calls) == 1  # nothing was rebuilt
    with pytest.raises(ReleaseExistsError, match="immutable"):
        build_release(tmp_path, INFO, [], _writer(b"xyz"), parameters={"seed": 2})
    changed_meta = ReleaseInfo("kascade", "WOLF359", "2")
    with pytest.raises(ReleaseExistsError):
        build_release(tmp_path, changed_meta, [], _writer(b"abc"), parameters={"seed": 1})
    assert (target / MANIFEST).read_bytes() == before
    verify_release(target)


def test_changed_source_bytes_change_the_build(tmp_path):
    source = tmp_path / "src.txt"
    source.write_text("one")
    build_release(tmp_path / "root", INFO, [source], _writer(b"abc"))
    source.write_text("two")
    with pytest.raises(ReleaseExistsError):
        build_release(tmp_path / "root", INFO, [source], _writer(b"abc"))


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failed_build_leaves_no_half_release(tmp_path, exc):
    def write(tmp: Path) -> dict:
        (tmp / "events").mkdir()
        (tmp / "events" / "part.bin").write_bytes(b"half")
        raise exc

    with pytest.raises(type(exc)):
        build_release(tmp_path, INFO, [], write)
    experiment = tmp_path / "releases" / "kascade"
    assert list(experiment.iterdir()) == []  # neither the release nor its temporary folder
    assert list((tmp_path / "releases" / ".staging").iterdir()) == []
    assert DataRoot(tmp_path).release_dirs() == []


def test_killed_build_is_invisible_and_cleaned_up_by_the_next(tmp_path):
    """A build killed with SIGKILL (no cleanup code runs) leaves only a hidden temporary
    folder: no release appears, and the next build removes the leftover."""
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from dlclab.store import ReleaseInfo, build_release
        def write(tmp):
            (tmp / "part.bin").write_bytes(b"half written")
            os.kill(os.getpid(), signal.SIGKILL)
        build_release(Path({str(tmp_path)!r}), ReleaseInfo("kascade", "WOLF359", "1"), [], write)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()
    experiment = tmp_path / "releases" / "kascade"
    staging = tmp_path / "releases" / ".staging"
    assert list(experiment.iterdir()) == []
    leftovers = list(staging.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".kascade-WOLF359.tmp-")
    assert DataRoot(tmp_path).release_dirs() == []
    result = build_release(tmp_path, INFO, [], _writer(b"abc"))
    assert result.status == "built"
    assert [p.name for p in experiment.iterdir()] == ["WOLF359"]
    assert list(staging.iterdir()) == []


def test_release_files_are_read_only(tmp_path):
    result = build_release(tmp_path, INFO, [], _writer(b"abc"))
    mode = os.stat(result.release_dir / "events" / "part.bin").st_mode & 0o777
    assert mode == 0o444


def test_a_staging_folder_not_ours_or_open_is_refused(tmp_path):
    """The staging folder must be the builder's own 0700 directory: one that others may
    enter (or a symbolic link) is refused with a message naming it."""
    from dlclab.errors import DlclabError

    (tmp_path / "releases").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "releases" / ".staging").symlink_to(elsewhere)
    with pytest.raises(DlclabError, match=r"\.staging.*must be a directory"):
        build_release(tmp_path, INFO, [], _writer(b"abc"))
    (tmp_path / "releases" / ".staging").unlink()
    (tmp_path / "releases" / ".staging").mkdir(mode=0o755)
    os.chmod(tmp_path / "releases" / ".staging", 0o755)
    with pytest.raises(DlclabError, match="mode 0700"):
        build_release(tmp_path, INFO, [], _writer(b"abc"))


def test_bad_names_and_access_are_refused(tmp_path):
    from dlclab.errors import ParameterError

    with pytest.raises(ParameterError, match="release name"):
        ReleaseInfo("kascade", ".hidden", "1")
    with pytest.raises(ParameterError, match="release name"):
        ReleaseInfo("kascade", "../escape", "1")
    with pytest.raises(ParameterError, match="access"):
        ReleaseInfo("taiga", "T1", "1", access="everyone")
    with pytest.raises(ParameterError, match="experiment"):
        ReleaseInfo("lopes", "T1", "1")
