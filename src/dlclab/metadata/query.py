"""Queries on the catalogue with a unified interface: file-level criteria (time range,
experiment, facility, cluster, station, release, storage) and event-level criteria on
thesaurus terms (``energy``, ``zenith``, ... or any synonym, in the synonym's unit),
restricted to what the asking user's groups may see.

File-level attributes of the current version live on ``data_file`` (indexed), and
event-level criteria test the per-file summaries (``max >= lo and min <= hi``): every
query is answered from the catalogue, without opening a file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, literal, or_, select, union_all
from sqlalchemy.orm import Session

from dlclab.errors import ParameterError
from dlclab.metadata.models import (
    PUBLIC,
    AccessGroup,
    DataFile,
    EventSummary,
    Facility,
    Release,
    StorageInstance,
    ThesaurusTerm,
)
from dlclab.metadata.thesaurus import Thesaurus, default_thesaurus

MAX_LIMIT = 1000
#: files longer than this (KCDC exports spanning years) are found through their own
#: small index range; shorter ones (raw files: minutes to a night) through start_utc
#: bounded by [start - LONG_SPAN_S, end], which keeps a time window logarithmic
LONG_SPAN_S = 2 * 86400.0


@dataclass(frozen=True)
class Cut:
    """``lo <= term <= hi`` in the term's unit (either bound may be open)."""

    term: str
    lo: float | None
    hi: float | None


def parse_cut(text: str, thesaurus: Thesaurus | None = None) -> Cut:
    """``"energy:1e15:1e17"``, ``"Ze::30"``, ``"lgE:15:"`` -> a :class:`Cut` in term units."""
    thesaurus = thesaurus or default_thesaurus()
    parts = text.split(":")
    if len(parts) != 3:
        raise ParameterError(f"cut {text!r}: expected TERM:MIN:MAX (either bound may be empty), "
                             "e.g. energy:1e15:1e17 or Ze::30")
    resolved = thesaurus.resolve(parts[0])
    if resolved.term.level != "event":
        raise ParameterError(f"cut {text!r}: {resolved.term.name!r} is a file-level attribute; "
                             "use its own query parameter")
    bounds = []
    for label, raw in zip(("MIN", "MAX"), parts[1:]):
        if raw.strip() == "":
            bounds.append(None)
            continue
        try:
            value = float(raw)
        except ValueError:
            raise ParameterError(f"cut {text!r}: {label} {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise ParameterError(f"cut {text!r}: {label} must be finite")
        converted = resolved.convert(value)
        if not math.isfinite(converted):
            raise ParameterError(f"cut {text!r}: {label} {raw!r} is out of range")
        bounds.append(converted)
    lo, hi = bounds
    if lo is not None and hi is not None and lo > hi:
        raise ParameterError(f"cut {text!r}: MIN is larger than MAX")
    return Cut(resolved.term.name, lo, hi)


@dataclass
class FileQuery:
    start: datetime | None = None
    end: datetime | None = None
    experiment: list[str] = field(default_factory=list)
    facility: list[str] = field(default_factory=list)
    cluster: int | None = None
    station: int | None = None
    release: str | None = None
    storage: list[str] = field(default_factory=list)
    cuts: list[Cut] = field(default_factory=list)
    include_errors: bool = False
    limit: int = 100
    offset: int = 0

    def check(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ParameterError("start is after end")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ParameterError(f"limit: expected 1..{MAX_LIMIT}, found {self.limit}")
        if self.offset < 0:
            raise ParameterError("offset: expected >= 0")


@dataclass(frozen=True)
class Visibility:
    """What a user's groups let them see: storage ids and release ids."""

    storage_ids: frozenset[int]
    release_ids: frozenset[int]
    groups: frozenset[str]

    def allows_file(self, row: DataFile) -> bool:
        return row.storage_id in self.storage_ids and (
            row.release_id is None or row.release_id in self.release_ids)


def visibility(session: Session, groups: set[str] | frozenset[str]) -> Visibility:
    """The storages and releases ``groups`` (and everyone: ``public``) may see; one query."""
    groups = frozenset(groups) | {PUBLIC}
    storages = select(literal("s").label("kind"), StorageInstance.id).join(AccessGroup).where(
        AccessGroup.name.in_(groups))
    releases = select(literal("r").label("kind"), Release.id).join(AccessGroup).where(
        AccessGroup.name.in_(groups))
    rows = session.execute(union_all(storages, releases)).all()
    return Visibility(frozenset(i for k, i in rows if k == "s"),
                      frozenset(i for k, i in rows if k == "r"), groups)


def file_statement(session: Session, query: FileQuery, seen: Visibility):
    """The SELECT of data_file rows answering ``query`` for a user who sees ``seen``."""
    query.check()
    stmt = select(DataFile).where(DataFile.storage_id.in_(seen.storage_ids)).where(
        or_(DataFile.release_id.is_(None), DataFile.release_id.in_(seen.release_ids)))
    if not query.include_errors:
        stmt = stmt.where(DataFile.status == "ok")
    if query.start is not None or query.end is not None:
        stmt = stmt.where(_overlaps(session, query.start, query.end))
    if query.facility or query.experiment:
        fac = select(Facility.id)
        if query.facility:
            fac = fac.where(Facility.name.in_(query.facility))
        if query.experiment:
            fac = fac.where(Facility.experiment.in_(query.experiment))
        stmt = stmt.where(DataFile.facility_id.in_(list(session.scalars(fac))))
    if query.cluster is not None:
        stmt = stmt.where(DataFile.cluster == query.cluster)
    if query.station is not None:
        stmt = stmt.where(DataFile.station == query.station)
    if query.release:
        ids = list(session.scalars(select(Release.id).where(Release.name == query.release)))
        stmt = stmt.where(DataFile.release_id.in_(ids))
    if query.storage:
        ids = list(session.scalars(select(StorageInstance.id).where(
            StorageInstance.name.in_(query.storage))))
        stmt = stmt.where(DataFile.storage_id.in_(ids))
    if query.cuts:
        term_ids = dict(session.execute(select(ThesaurusTerm.name, ThesaurusTerm.id)).all())
        for cut in query.cuts:
            cond = [EventSummary.file_id == DataFile.id, EventSummary.current.is_(True),
                    EventSummary.term_id == term_ids[cut.term]]
            if cut.lo is not None:
                cond.append(EventSummary.max_value >= cut.lo)
            if cut.hi is not None:
                cond.append(EventSummary.min_value <= cut.hi)
            stmt = stmt.where(exists().where(and_(*cond)))
    return stmt


def _overlaps(session: Session, start: datetime | None, end: datetime | None):
    """Files whose [start_utc, end_utc] overlaps [start, end] (either bound may be open).

    Raw files last minutes to a night (at most LONG_SPAN_S): for them the window becomes
    an index range on start_utc, widened by LONG_SPAN_S. The few long files (exports
    spanning years) are looked up on their own and added by id, so the main condition
    stays a plain conjunction the planner serves from one index.
    """
    short = [DataFile.span_s <= LONG_SPAN_S]
    long_ = [DataFile.span_s > LONG_SPAN_S]
    for part in (short, long_):
        if end is not None:
            part.append(DataFile.start_utc <= end)
        if start is not None:
            part.append(DataFile.end_utc >= start)
    if start is not None and start > datetime.min + timedelta(seconds=LONG_SPAN_S):
        short.append(DataFile.start_utc >= start - timedelta(seconds=LONG_SPAN_S))
    long_ids = list(session.scalars(select(DataFile.id).where(*long_)))
    return or_(and_(*short), DataFile.id.in_(long_ids)) if long_ids else and_(*short)


def query_files(session: Session, query: FileQuery, seen: Visibility) -> tuple[list[DataFile], bool]:
    """One page of matching files (ordered by start time, then id) and whether more follow."""
    stmt = file_statement(session, query, seen)
    stmt = stmt.order_by(DataFile.start_utc, DataFile.id).offset(query.offset).limit(query.limit + 1)
    rows = list(session.scalars(stmt).unique())
    return rows[: query.limit], len(rows) > query.limit
