"""Request and response bodies of the service's REST API (they make its OpenAPI)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

#: the catalogue stores naive UTC; responses say so (RFC 3339 with ``Z``)
Utc = Annotated[datetime, AfterValidator(
    lambda d: d if d.tzinfo else d.replace(tzinfo=timezone.utc))]

Name = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:+-]+$")


class Storage(BaseModel):
    name: str
    experiment: str
    access: str
    protocol: str


class ReleaseOut(BaseModel):
    uuid: str
    experiment: str
    name: str
    version: int
    doi: str | None
    title: str
    licence: str
    access: str
    provenance: dict
    oai_identifier: str


class TermOut(BaseModel):
    name: str
    unit: str
    level: str
    description: str
    synonyms: list[dict]


class FileRecord(BaseModel):
    uuid: str
    storage: str
    path: str
    experiment: str
    facility: str
    release: str | None
    date: date | None
    sequence_number: int | None
    version: int
    start_utc: Utc | None
    end_utc: Utc | None
    cluster: int | None
    station: int | None
    n_events: int
    size_bytes: int
    status: str
    data_url: str


class FilePage(BaseModel):
    files: list[FileRecord]
    more: bool
    offset: int
    limit: int


class VersionOut(BaseModel):
    version: int
    path_kind: str
    sha256: str
    size_bytes: int
    extracted_utc: Utc
    status: str
    parse_error: str | None
    n_packages: int | None
    n_events: int | None
    first_event: int | None
    last_event: int | None
    first_time_ns: int | None
    last_time_ns: int | None
    optical_line_length: int | None
    attributes: dict


class SummaryOut(BaseModel):
    term: str
    unit: str
    n: int
    min: float | None
    max: float | None


class FileDetail(FileRecord):
    versions: list[VersionOut]
    summaries: list[SummaryOut]
    licence: str | None
    provenance: dict


class QueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: datetime | None = None
    end: datetime | None = None
    experiment: list[str] = Field(default_factory=list, max_length=10)
    facility: list[str] = Field(default_factory=list, max_length=20)
    cluster: int | None = Field(default=None, ge=0, le=1_000_000)
    station: int | None = Field(default=None, ge=0, le=1_000_000)
    release: str | None = Field(default=None, max_length=64)
    storage: list[str] = Field(default_factory=list, max_length=20)


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["ASCII", "HDF5", "ROOT"]
    query: QueryIn = Field(default_factory=QueryIn)
    components: list[str] = Field(default_factory=list, max_length=20)
    quantities: list[str] = Field(default_factory=list, max_length=50)
    cuts: list[str] = Field(default_factory=list, max_length=20,
                            description="TERM:MIN:MAX, e.g. energy:1e15:1e17 or Ze::30")


class ExportOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed", "expired"]
    created_utc: Utc
    updated_utc: Utc
    expires_utc: Utc
    parameters: dict
    n_events: int | None
    size_bytes: int | None = Field(default=None, description="size of the finished file")
    error: str | None = Field(description="why it failed, or why you may no longer have it")
    download_url: str | None


class WhoAmI(BaseModel):
    name: str
    groups: list[str]


class ErrorOut(BaseModel):
    detail: str
