"""The extractor: real TAIGA files, E1/E2, idempotence, corrupt files, a real kill."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dlclab.errors import FormatError
from dlclab.metadata.db import open_catalogue
from dlclab.metadata.extractor import Extractor, StorageSpec
from dlclab.metadata.mapping import MAPPINGS_DIR, load_mapping, load_mappings
from dlclab.metadata.models import DataFile, Equipment, EventSummary, FileVersion, Run
from tests.metadata.builders import write_raw_tunka133

DLCLAB = str(Path(sys.executable).parent / "dlclab")
T133_SHA = "7555358773205dc78da440599bc0cd7d96febadb189d79f8e01d41b14a81281e"
IACT_SHA = "532440d9a9d29d087e9ec4964705fe77ad7eeeb9eb2335be83bd708f84621b63"


def real_storage(root: Path, taiga_fixtures: Path) -> Path:
    """A storage tree whose files are the real samples (symlinks: never copied)."""
    for facility, name in (("tunka133", "t133.001"), ("taiga_iact", "iact.001")):
        folder = root / facility / "2019-10-11"
        folder.mkdir(parents=True)
        (folder / name).symlink_to(taiga_fixtures / name)
    return root


def snapshot(engine) -> dict:
    with Session(engine) as s:
        return {
            "files": sorted(s.execute(select(DataFile.uuid, DataFile.path, DataFile.current_version,
                                             DataFile.status)).all()),
            "versions": sorted(s.execute(select(FileVersion.file_id, FileVersion.version,
                                                FileVersion.sha256)).all()),
            "summaries": s.scalar(select(func.count()).select_from(EventSummary)),
            "runs": s.scalar(select(func.count()).select_from(Run)),
            "equipment": s.scalar(select(func.count()).select_from(Equipment)),
        }


def test_real_files_give_the_known_meta_data(catalogue_url, tmp_path, taiga_fixtures):
    engine = open_catalogue(catalogue_url)
    root = real_storage(tmp_path / "s", taiga_fixtures)
    summary = Extractor(engine, StorageSpec("s1", root, "taiga", access="taiga")).run()
    assert (summary.files, summary.new_objects, summary.errors) == (2, 2, 0)
    assert summary.bytes == 3964842 + 467220
    with Session(engine) as s:
        t133 = s.scalar(select(DataFile).where(DataFile.path == "tunka133/2019-10-11/t133.001"))
        v = t133.versions[0]
        assert (v.sha256, v.size_bytes, v.status, v.path_kind) == (T133_SHA, 3964842, "ok", "E1")
        assert (v.n_events, v.first_event, v.last_event) == (119, 1, 119)
        assert (v.n_packages, v.cluster, v.optical_line_length) == (119 * 33, 1, 500)
        assert t133.start_utc == datetime(2019, 10, 11, 13, 40, 33, 3000)
        assert (v.first_time_ns, v.last_time_ns) == (49233003000000, 50329478000000)
        assert t133.end_utc == datetime(2019, 10, 11, 13, 58, 49, 904000)  # latest, not last
        assert (t133.facility.name, t133.sequence_number, str(t133.date)) == ("tunka133", 1, "2019-10-11")
        assert t133.storage.access_group.name == "taiga"
        iact = s.scalar(select(DataFile).where(DataFile.path.like("taiga_iact/%")))
        w = iact.versions[0]
        assert (w.sha256, w.n_events, w.first_event, w.last_event) == (IACT_SHA, 2995, 83, 124139)
        assert (w.n_packages, iact.cluster) == (2995, 0)
        # the README quotes times truncated to ms; IACT stamps resolve us
        assert iact.start_utc.replace(microsecond=iact.start_utc.microsecond // 1000 * 1000) == \
            datetime(2019, 10, 11, 12, 28, 38, 915000)
        assert iact.end_utc.replace(microsecond=iact.end_utc.microsecond // 1000 * 1000) == \
            datetime(2019, 10, 11, 12, 45, 19, 777000)
        assert s.scalar(select(func.count()).select_from(Run)) == 2
    engine.dispose()


def test_rerun_changes_nothing_and_reprocessing_is_a_new_version(catalogue_url, tmp_path):
    engine = open_catalogue(catalogue_url)
    root = tmp_path / "s"
    paths = [write_raw_tunka133(root / "tunka133" / "2013-01-05" / f"c{i}.{i:03d}", 4, seed=i,
                                cluster=i) for i in (1, 2)]
    spec = StorageSpec("s1", root, "taiga", access="taiga")
    first = Extractor(engine, spec).run()
    before = snapshot(engine)
    again = Extractor(engine, spec).run()
    verified = Extractor(engine, spec, verify=True).run()
    assert (first.new_objects, again.unchanged, verified.unchanged) == (2, 2, 2)
    assert snapshot(engine) == before
    # E2: the file is reprocessed (same name, same size, new content, mtime kept)
    stat = paths[0].stat()
    write_raw_tunka133(paths[0], 4, seed=77, cluster=1, first_event=1000)
    os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert Extractor(engine, spec).run().unchanged == 2  # size+mtime: cheap check sees nothing
    e2 = Extractor(engine, spec, verify=True).run()
    assert (e2.new_versions, e2.unchanged) == (1, 1)
    with Session(engine) as s:
        row = s.scalar(select(DataFile).where(DataFile.path == "tunka133/2013-01-05/c1.001"))
        assert row.uuid == before["files"][0][0] or row.uuid in [f[0] for f in before["files"]]
        assert [(v.version, v.path_kind) for v in row.versions] == [(1, "E1"), (2, "E2")]
        assert row.current_version == 2 and row.versions[1].first_event == 1000
        current = s.scalars(select(EventSummary.file_version_id).where(
            EventSummary.file_id == row.id, EventSummary.current.is_(True))).all()
        assert set(current) == {row.versions[1].id}
    assert snapshot(engine)["files"] == sorted(
        (u, p, 2 if p.endswith("c1.001") else 1, st) for u, p, _, st in before["files"])
    engine.dispose()


def test_corrupt_file_is_recorded_and_the_run_goes_on(catalogue_url, tmp_path, taiga_fixtures):
    engine = open_catalogue(catalogue_url)
    root = tmp_path / "s"
    good = write_raw_tunka133(root / "tunka133" / "2013-01-05" / "a.001", 3, seed=1)
    bad = root / "tunka133" / "2013-01-05" / "b.002"
    bad.write_bytes((taiga_fixtures / "t133.001").read_bytes()[:50_000])  # a truncated link
    later = write_raw_tunka133(root / "tunka133" / "2013-01-05" / "c.003", 3, seed=2)
    summary = Extractor(engine, StorageSpec("s1", root, "taiga")).run()
    assert (summary.files, summary.new_objects, summary.errors) == (3, 3, 1)
    assert "b.002" in summary.error_messages[0]
    with Session(engine) as s:
        rows = {r.path.rsplit("/", 1)[1]: r for r in s.scalars(select(DataFile))}
        assert rows["b.002"].status == "error" and rows["a.001"].status == "ok"
        assert rows["c.003"].status == "ok" and rows["c.003"].n_events == 3
        message = rows["b.002"].versions[0].parse_error
        assert str(bad) in message and "package" in message
    before = snapshot(engine)
    assert Extractor(engine, StorageSpec("s1", root, "taiga")).run().errors == 0  # known, unchanged
    assert snapshot(engine) == before
    assert good.exists() and later.exists()
    engine.dispose()


def test_killed_run_resumes_without_duplicates_or_losses(catalogue_url, tmp_path, taiga_fixtures):
    """SIGKILL a real ``dlclab extract`` after a few files, run it again, compare."""
    root = tmp_path / "s"
    n_files = 40
    for i in range(n_files):  # many objects, one real file's bytes (symlinks)
        folder = root / "tunka133" / f"2019-10-{11 + i // 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"t133_{i:03d}.{i % 1000:03d}").symlink_to(taiga_fixtures / "t133.001")
    engine = open_catalogue(catalogue_url)
    command = [DLCLAB, "extract", f"s1={root}", "--db", catalogue_url,
               "--no-progress"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while True:  # wait until some files are committed, then kill hard
            with Session(engine) as s:
                done = s.scalar(select(func.count()).select_from(FileVersion))
            if done >= 3 or proc.poll() is not None:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the extractor finished before it could be killed"
    with Session(engine) as s:
        partial = s.scalar(select(func.count()).select_from(FileVersion))
    assert 3 <= partial < n_files
    rerun = subprocess.run(command, capture_output=True, text=True, check=True)
    assert f"files {n_files}" in rerun.stdout and "errors 0" in rerun.stdout
    with Session(engine) as s:
        paths = s.scalars(select(DataFile.path)).all()
        versions = s.execute(select(FileVersion.file_id, FileVersion.version)).all()
        assert len(paths) == len(set(paths)) == n_files
        assert len(versions) == n_files and {v for _, v in versions} == {1}
        assert s.scalar(select(func.count()).select_from(FileVersion).where(
            FileVersion.status != "ok")) == 0
    engine.dispose()


def test_a_new_facility_is_a_mapping_not_code(tmp_path):
    """Copy a shipped mapping under another facility name: the extractor follows it."""
    text = (MAPPINGS_DIR / "tunka133.yaml").read_text().replace(
        "facility: tunka133", "facility: tunka133_test_bench").replace(
        "(?P<facility>tunka133)", "(?P<facility>bench)")
    custom = tmp_path / "mappings"
    custom.mkdir()
    (custom / "bench.yaml").write_text(text)
    root = tmp_path / "s"
    write_raw_tunka133(root / "bench" / "2013-01-05" / "x.007", 2, seed=3, cluster=9)
    engine = open_catalogue(f"sqlite:///{tmp_path / 'c.sqlite'}")
    summary = Extractor(engine, StorageSpec("s", root, "taiga"), mappings=load_mappings(custom)).run()
    assert (summary.new_objects, summary.errors) == (1, 0)
    with Session(engine) as s:
        row = s.scalar(select(DataFile))
        assert (row.facility.name, row.cluster, row.sequence_number) == ("tunka133_test_bench", 9, 7)
    engine.dispose()
    (custom / "bench.yaml").write_text(text.replace("agg: first", "agg: median"))
    with pytest.raises(FormatError, match="bench.yaml.*unknown aggregation"):
        load_mapping(custom / "bench.yaml")


def test_every_shipped_mapping_names_an_existing_description():
    from dlclab.metadata.mapping import ksy_directory, ksy_field_ids

    for mapping in load_mappings():
        if mapping.reader == "taiga":
            ksy = ksy_directory() / mapping.description
            assert ksy.exists(), mapping.name
            assert "event_number" in ksy_field_ids(ksy), mapping.name


def test_cli_prints_a_summary(tmp_path, taiga_fixtures):
    root = real_storage(tmp_path / "s", taiga_fixtures)
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    out = subprocess.run([DLCLAB, "extract", str(root), "--db", db],
                         capture_output=True, text=True, check=True)
    assert "access taiga" in out.stdout and "files 2, 4.4 MB" in out.stdout
    assert "objects: 2 new" in out.stdout and "errors 0" in out.stdout
    assert "B/s" in out.stderr or "100%" in out.stderr  # the tqdm bar
