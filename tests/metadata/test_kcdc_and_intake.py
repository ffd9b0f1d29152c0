"""KCDC exports in the catalogue (ASCII, HDF5, ROOT) and Intake catalogues generated
from the catalogue."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.catalog.writer import write_catalogs
from dlclab.errors import ParameterError
from dlclab.formats.kcdc import write_export
from dlclab.metadata.db import open_catalogue
from dlclab.metadata.extractor import Extractor, StorageSpec
from dlclab.metadata.intake import write_intake_catalogs
from dlclab.metadata.models import DataFile, EventSummary, ThesaurusTerm
from dlclab.metadata.query import FileQuery, query_files, visibility
from dlclab.simulate.kascade import simulate_kascade
from tests.metadata.builders import build_release


def test_kcdc_exports_of_every_format_share_their_summaries(tmp_path):
    sim = simulate_kascade(300, seed=5)
    export = sim.to_export(release="OCEANUS", data_set="KASCADE_TestSample")
    root = tmp_path / "kcdc"
    for fmt in ("ascii", "hdf5", "root"):
        write_export(export, root / "OCEANUS" / f"KASCADE_TestSample_{fmt.upper()}", fmt)
    engine = open_catalogue(f"sqlite:///{tmp_path / 'c.sqlite'}")
    summary = Extractor(engine, StorageSpec("kcdc", root, "kascade")).run()
    assert (summary.files, summary.new_objects, summary.errors) == (3, 3, 0), summary.text()
    truth = sim.general.join(sim.array, rsuffix="_array")
    with Session(engine) as s:
        files = s.scalars(select(DataFile)).all()
        assert {f.release.name for f in files} == {"OCEANUS"}
        assert {f.n_events for f in files} == {300}
        energy = s.scalar(select(ThesaurusTerm.id).where(ThesaurusTerm.name == "energy"))
        ranges = {(round(e.min_value), round(e.max_value)) for e in s.scalars(
            select(EventSummary).where(EventSummary.term_id == energy))}
    assert ranges == {(round(truth.E.min()), round(truth.E.max()))}  # E in eV, all formats
    # an export spans years: a one-day window inside it finds it (the long-span branch)
    with Session(engine) as s:
        seen = visibility(s, set())
        day = datetime(2005, 6, 1)
        found, _ = query_files(s, FileQuery(start=day, end=day + timedelta(days=1)), seen)
        assert len(found) == 3 and all(f.span_s > 365 * 86400 for f in found)
        before, _ = query_files(s, FileQuery(end=datetime(1990, 1, 1)), seen)
        assert before == []
    engine.dispose()


def test_intake_catalogues_come_from_the_catalogue(tmp_path):
    storage = tmp_path / "releases"
    build_release(storage, "kascade", "OCEANUS", "public", n_events=50, seed=1)
    build_release(storage, "taiga", "TSIM1", "collaboration:taiga", n_events=50, seed=2)
    engine = open_catalogue(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with pytest.raises(ParameterError, match="no release"):
        write_intake_catalogs(engine, tmp_path / "none")
    Extractor(engine, StorageSpec("releases", storage, "mixed")).run()
    build_release(storage, "kascade", "NABOO", "public", n_events=50, seed=3)  # not extracted
    ours = write_intake_catalogs(engine, tmp_path / "from_catalogue")
    direct = write_catalogs([storage / "kascade" / "OCEANUS", storage / "taiga" / "TSIM1"],
                            tmp_path / "direct")
    for a, b in zip(ours, direct):
        assert a.read_text() == b.read_text(), a.name
    assert "NABOO" not in (tmp_path / "from_catalogue" / "kcdc.yaml").read_text()
    # a collaboration release: in its collaboration's catalogue, not in the public one
    assert "TSIM1" not in (tmp_path / "from_catalogue" / "taiga.yaml").read_text()
    assert "TSIM1" in (tmp_path / "from_catalogue" / "collaborations" / "taiga"
                       / "taiga.yaml").read_text()
    engine.dispose()
