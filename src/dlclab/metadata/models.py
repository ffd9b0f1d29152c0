"""The meta-data catalogue: SQLAlchemy 2 models (GRADLCI / APPDS meta-data database).

One object model for every experiment:

* :class:`AccessGroup` - who may see a storage instance or a release (``public`` or a
  collaboration such as ``taiga``; hub group of the same name).
* :class:`StorageInstance` - one storage S1..Sn (a local path or an HTTP endpoint).
* :class:`Facility` and :class:`Equipment` - detectors and their clusters / stations / boards.
* :class:`Release` - a named, versioned, citable data set (UUID, DOI, licence, provenance).
* :class:`Run` - a data-taking session (one facility, one night / run number).
* :class:`DataFile` - a digital object with a persistent identity (UUID) at a place in a
  storage; :class:`FileVersion` - one content of it (E1 creates version 1, E2 adds versions).
* :class:`EventSummary` - per file version and thesaurus term: count, min, max (what answers
  event-level criteria without reading the files).
* :class:`ThesaurusTerm` / :class:`TermSynonym` - unified terminology with units.
* :class:`ExportRequest` - the Data Aggregation Service's asynchronous export requests.

Times are stored as naive UTC datetimes (``*_utc``) plus TAIGA's ns of the day where the
format gives them (``first_time_ns``); sizes in bytes.
"""
from __future__ import annotations

import uuid as uuid_module
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

PUBLIC = "public"


def utcnow() -> datetime:
    """Now as a naive UTC datetime (the catalogue's time convention)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_uuid() -> str:
    return str(uuid_module.uuid4())


class Base(DeclarativeBase):
    pass


class AccessGroup(Base):
    """``public`` or a collaboration; the name is the JupyterHub group that grants access."""

    __tablename__ = "access_group"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class StorageInstance(Base):
    __tablename__ = "storage_instance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: fsspec URL of the storage root: ``file:///srv/...`` or ``http://host/...``
    url: Mapped[str] = mapped_column(Text)
    experiment: Mapped[str] = mapped_column(String(32))
    access_group_id: Mapped[int] = mapped_column(ForeignKey("access_group.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    access_group: Mapped[AccessGroup] = relationship(lazy="joined")


class Facility(Base):
    __tablename__ = "facility"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    experiment: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text, default="")
    #: the format description (``.ksy`` name or export format) the mapping is driven by
    description_file: Mapped[str] = mapped_column(Text, default="")


class Equipment(Base):
    """A cluster, station or board of a facility."""

    __tablename__ = "equipment"
    __table_args__ = (UniqueConstraint("facility_id", "kind", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)


class Release(Base):
    __tablename__ = "release"
    __table_args__ = (UniqueConstraint("experiment", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    experiment: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    doi: Mapped[str | None] = mapped_column(String(128), nullable=True)
    title: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    licence: Mapped[str] = mapped_column(String(64), default="CC-BY-4.0")
    publisher: Mapped[str] = mapped_column(Text, default="Astroparticle Data Life Cycle Lab")
    provenance: Mapped[str] = mapped_column(Text, default="")
    access_group_id: Mapped[int] = mapped_column(ForeignKey("access_group.id"))
    storage_id: Mapped[int | None] = mapped_column(ForeignKey("storage_instance.id"), nullable=True)
    created_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    access_group: Mapped[AccessGroup] = relationship(lazy="joined")


class Run(Base):
    __tablename__ = "run"
    __table_args__ = (UniqueConstraint("facility_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    name: Mapped[str] = mapped_column(String(64))
    date: Mapped[date | None] = mapped_column(Date, nullable=True)


class DataFile(Base):
    """A digital object: its identity (``uuid``) survives reprocessing (E2)."""

    __tablename__ = "data_file"
    __table_args__ = (
        UniqueConstraint("storage_id", "path"),
        Index("ix_data_file_facility_date", "facility_id", "date"),
        Index("ix_data_file_release", "release_id"),
        # file-level queries filter on one attribute and page in start order: one
        # composite index each keeps them logarithmic (revision 0002)
        Index("ix_data_file_facility_start", "facility_id", "start_utc"),
        Index("ix_data_file_release_start", "release_id", "start_utc"),
        Index("ix_data_file_storage_start", "storage_id", "start_utc"),
        Index("ix_data_file_cluster_start", "cluster", "start_utc"),
        Index("ix_data_file_station_start", "station", "start_utc"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    storage_id: Mapped[int] = mapped_column(ForeignKey("storage_instance.id"))
    #: POSIX path relative to the storage root
    path: Mapped[str] = mapped_column(Text)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("release.id"), nullable=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"), nullable=True)
    date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sequence_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    # The current version's file-level attributes, copied here so that file-level
    # queries need no join (the catalogue answers them from one indexed table).
    start_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    end_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    #: end - start in seconds; time-window queries bound their index range with it
    span_s: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    cluster: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    station: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    n_events: Mapped[int] = mapped_column(BigInteger, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(8), default="ok")

    storage: Mapped[StorageInstance] = relationship(lazy="joined")
    facility: Mapped[Facility] = relationship(lazy="joined")
    release: Mapped[Release | None] = relationship(lazy="joined")
    versions: Mapped[list[FileVersion]] = relationship(
        back_populates="file", order_by="FileVersion.version", cascade="all, delete-orphan")


class FileVersion(Base):
    __tablename__ = "file_version"
    __table_args__ = (UniqueConstraint("file_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("data_file.id"))
    version: Mapped[int] = mapped_column(Integer)
    #: E1 (new file) or E2 (reprocessed file)
    path_kind: Mapped[str] = mapped_column(String(2))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    extracted_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(8))  # "ok" | "error"
    parse_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    n_packages: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    n_events: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_event: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_event: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_time_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_time_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    start_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    end_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cluster: Mapped[int | None] = mapped_column(Integer, nullable=True)
    station: Mapped[int | None] = mapped_column(Integer, nullable=True)
    optical_line_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: every other meta-data field of the mapping (facility-specific)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)

    file: Mapped[DataFile] = relationship(back_populates="versions")
    summaries: Mapped[list[EventSummary]] = relationship(cascade="all, delete-orphan")


class ThesaurusTerm(Base):
    __tablename__ = "thesaurus_term"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    unit: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(8))  # "file" | "event"
    description: Mapped[str] = mapped_column(Text, default="")
    synonyms: Mapped[list[TermSynonym]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class TermSynonym(Base):
    """A name an experiment uses for a term, with its unit and the conversion to the term's."""

    __tablename__ = "term_synonym"
    __table_args__ = (UniqueConstraint("term_id", "experiment", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("thesaurus_term.id"))
    experiment: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str] = mapped_column(String(32))
    #: ``identity``, ``scale:<factor>`` or ``pow10`` (value is a decimal logarithm)
    conversion: Mapped[str] = mapped_column(String(32), default="identity")


class EventSummary(Base):
    """Count and range of one thesaurus term over the events of one file version."""

    __tablename__ = "event_summary"
    __table_args__ = (
        UniqueConstraint("file_version_id", "term_id"),
        Index("ix_event_summary_term_range", "term_id", "min_value", "max_value"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_version_id: Mapped[int] = mapped_column(ForeignKey("file_version.id"))
    #: the owning object, so that the current version's summaries are found without a join
    file_id: Mapped[int] = mapped_column(ForeignKey("data_file.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("thesaurus_term.id"))
    n: Mapped[int] = mapped_column(BigInteger)
    min_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    current: Mapped[bool] = mapped_column(default=True)


class ExportRequest(Base):
    """An asynchronous export (like a KCDC DataShop selection); visible to its owner only."""

    __tablename__ = "export_request"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    created_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_utc: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued|running|done|failed
    parameters: Mapped[dict] = mapped_column(JSON)
    result_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    n_events: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: what the export was made from, ``{"storages": [name...], "releases": [uuid...]}``,
    #: recorded when its files are selected: status and download check the owner may
    #: still read each of them (None: made before revision 0003, never served)
    sources: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: size of the finished file (the per-user export quota counts it)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
