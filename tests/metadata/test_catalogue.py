"""The catalogue schema: alembic migrations, seeding, thesaurus, queries (SQLite + PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from dlclab.errors import ParameterError
from dlclab.metadata import db
from dlclab.metadata.models import AccessGroup, TermSynonym, ThesaurusTerm
from dlclab.metadata.query import parse_cut
from dlclab.metadata.thesaurus import default_thesaurus

TABLES = {"access_group", "storage_instance", "facility", "equipment", "release", "run",
          "data_file", "file_version", "event_summary", "thesaurus_term", "term_synonym",
          "export_request", "alembic_version"}


def test_migrations_create_every_table_and_are_idempotent(catalogue_url):
    engine = db.open_catalogue(catalogue_url)
    assert TABLES <= set(inspect(engine).get_table_names())
    assert db.current_revision(engine) == db.head_revision()
    with Session(engine) as s:
        counts = (s.scalar(select(func.count()).select_from(ThesaurusTerm)),
                  s.scalar(select(func.count()).select_from(TermSynonym)),
                  s.scalar(select(func.count()).select_from(AccessGroup)))
    engine.dispose()
    engine = db.open_catalogue(catalogue_url)  # a second open seeds nothing twice
    with Session(engine) as s:
        again = (s.scalar(select(func.count()).select_from(ThesaurusTerm)),
                 s.scalar(select(func.count()).select_from(TermSynonym)),
                 s.scalar(select(func.count()).select_from(AccessGroup)))
    assert counts == again and counts[0] == len(default_thesaurus().terms)
    engine.dispose()


def test_downgrade_to_base_and_back(catalogue_url):
    engine = db.make_engine(catalogue_url)
    db.upgrade(engine)
    db.upgrade(engine, "head")
    from alembic import command

    cfg = db.alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert "data_file" not in inspect(engine).get_table_names()
    db.upgrade(engine)
    assert "data_file" in inspect(engine).get_table_names()
    engine.dispose()


def test_thesaurus_unifies_names_and_units():
    t = default_thesaurus()
    assert t.resolve("E").term.name == "energy"
    assert t.resolve("energy_eV").term.name == "energy"
    assert t.resolve("lgE").convert(15.0) == pytest.approx(1e15)
    assert t.resolve("energy_PeV").convert(2.0) == pytest.approx(2e15)
    assert t.resolve("ze").term.name == "zenith"  # case-insensitive
    assert t.resolve("Xc").term.unit == "m"
    with pytest.raises(ParameterError, match="unknown term 'brightness'"):
        t.resolve("brightness")


def test_cuts_resolve_through_the_thesaurus():
    assert parse_cut("lgE:15:16") == parse_cut("energy:1e15:1e16")
    cut = parse_cut("Ze::30")
    assert (cut.term, cut.lo, cut.hi) == ("zenith", None, 30.0)
    for bad, message in [("energy", "expected TERM:MIN:MAX"), ("energy:a:1", "not a number"),
                         ("energy:5:1", "MIN is larger"), ("energy:nan:", "finite"),
                         ("cluster:1:2", "file-level"), ("lgE:1e300:", "out of range"),
                         ("colour:1:2", "unknown term")]:
        with pytest.raises(ParameterError, match=message):
            parse_cut(bad)
