"""Catalogue queries across the storage instances, and delivery of single files."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.metadata.models import DataFile, Release, StorageInstance, ThesaurusTerm
from dlclab.metadata.query import query_files
from dlclab.service import schemas
from dlclab.service.adapters import StorageUnavailable, adapter_for, safe_relpath
from dlclab.service.auth import User
from dlclab.service.dependencies import (ERRORS, MemberDep, SessionDep, SettingsDep,
                                         ThesaurusDep, UserDep, build_query, seen_by)
from dlclab.service.oai import PREFIX as OAI_PREFIX
from dlclab.service.oai import provenance_of

router = APIRouter(responses=ERRORS)


def file_record(f: DataFile, prefix: str) -> dict:
    return dict(uuid=f.uuid, storage=f.storage.name, path=f.path,
                experiment=f.facility.experiment, facility=f.facility.name,
                release=f.release.name if f.release else None, date=f.date,
                sequence_number=f.sequence_number, version=f.current_version,
                start_utc=f.start_utc, end_utc=f.end_utc, cluster=f.cluster, station=f.station,
                n_events=f.n_events, size_bytes=f.size_bytes, status=f.status,
                data_url=f"{prefix}/api/files/{f.uuid}/data")


def release_out(r: Release) -> dict:
    return dict(uuid=r.uuid, experiment=r.experiment, name=r.name, version=r.version,
                doi=r.doi, title=r.title, licence=r.licence, access=r.access_group.name,
                provenance=provenance_of(r), oai_identifier=OAI_PREFIX + r.uuid)


def visible_file(s: Session, user: User, file_uuid: str) -> DataFile:
    row = s.scalar(select(DataFile).where(DataFile.uuid == file_uuid))
    if row is None:
        raise HTTPException(404, f"no file with uuid {file_uuid!r}")
    if not seen_by(s, user).allows_file(row):
        raise HTTPException(403, f"file {file_uuid} is internal to a collaboration you are "
                            "not a member of")
    return row


@router.get("/whoami", response_model=schemas.WhoAmI)
def whoami(user: UserDep):
    return {"name": user.name, "groups": sorted(user.groups)}


@router.get("/storages", response_model=list[schemas.Storage])
def storages(user: UserDep, s: SessionDep):
    seen = seen_by(s, user)
    rows = s.scalars(select(StorageInstance).where(StorageInstance.id.in_(seen.storage_ids))
                     .order_by(StorageInstance.name))
    return [dict(name=r.name, experiment=r.experiment, access=r.access_group.name,
                 protocol=adapter_for(r.url).protocol) for r in rows]


@router.get("/releases", response_model=list[schemas.ReleaseOut])
def releases(user: UserDep, s: SessionDep):
    seen = seen_by(s, user)
    rows = s.scalars(select(Release).where(Release.id.in_(seen.release_ids)).order_by(Release.id))
    return [release_out(r) for r in rows]


@router.get("/terms", response_model=list[schemas.TermOut])
def terms(user: UserDep, s: SessionDep):
    rows = s.scalars(select(ThesaurusTerm).order_by(ThesaurusTerm.name))
    return [dict(name=t.name, unit=t.unit, level=t.level, description=t.description,
                 synonyms=[dict(name=x.name, experiment=x.experiment, unit=x.unit)
                           for x in t.synonyms]) for t in rows]


@router.get("/files", response_model=schemas.FilePage)
def files(user: UserDep, s: SessionDep, settings: SettingsDep, thesaurus: ThesaurusDep,
          start: Annotated[datetime | None, Query(description="UTC; files ending before are left out")] = None,
          end: Annotated[datetime | None, Query(description="UTC; files starting after are left out")] = None,
          experiment: Annotated[list[str], Query(max_length=10)] = [],
          facility: Annotated[list[str], Query(max_length=20)] = [],
          cluster: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
          station: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
          release: Annotated[str | None, Query(max_length=64)] = None,
          storage: Annotated[list[str], Query(max_length=20)] = [],
          cut: Annotated[list[str], Query(max_length=20, description=
                         "event-level criterion TERM:MIN:MAX in the unit of the name used, "
                         "e.g. energy:1e15:1e17, Ze::30, lgE:15.5:")] = [],
          include_errors: bool = False,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100,
          offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0):
    seen = seen_by(s, user)
    q = schemas.QueryIn(start=start, end=end, experiment=experiment, facility=facility,
                        cluster=cluster, station=station, release=release, storage=storage)
    fq = build_query(s, seen, thesaurus, q, cut, limit, offset, include_errors)
    rows, more = query_files(s, fq, seen)
    return {"files": [file_record(f, settings.norm_prefix) for f in rows], "more": more,
            "offset": offset, "limit": limit}


@router.get("/files/{file_uuid}", response_model=schemas.FileDetail)
def file_detail(file_uuid: str, user: UserDep, s: SessionDep, settings: SettingsDep):
    f = visible_file(s, user, file_uuid)
    units = dict(s.execute(select(ThesaurusTerm.id, ThesaurusTerm.unit)).all())
    names = dict(s.execute(select(ThesaurusTerm.id, ThesaurusTerm.name)).all())
    current = f.versions[-1]
    out = file_record(f, settings.norm_prefix)
    out["versions"] = [dict(version=v.version, path_kind=v.path_kind, sha256=v.sha256,
                            size_bytes=v.size_bytes, extracted_utc=v.extracted_utc,
                            status=v.status, parse_error=v.parse_error,
                            n_packages=v.n_packages, n_events=v.n_events,
                            first_event=v.first_event, last_event=v.last_event,
                            first_time_ns=v.first_time_ns, last_time_ns=v.last_time_ns,
                            optical_line_length=v.optical_line_length,
                            attributes=v.attributes or {}) for v in f.versions]
    out["summaries"] = [dict(term=names[x.term_id], unit=units[x.term_id], n=x.n,
                             min=x.min_value, max=x.max_value) for x in current.summaries]
    out["licence"] = f.release.licence if f.release else None
    out["provenance"] = {"storage": f.storage.name, "path": f.path,
                         "extracted_utc": current.extracted_utc.isoformat(),
                         "extractor": f"dlclab.metadata.extractor ({current.path_kind})",
                         "release": provenance_of(f.release) if f.release else None}
    return out


@router.get("/files/{file_uuid}/data", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def file_data(file_uuid: str, user: MemberDep, s: SessionDep):
    # the bytes leave the service: decided on the user's groups now, not the token cache's
    f = visible_file(s, user, file_uuid)
    adapter = adapter_for(f.storage.url)
    rel = safe_relpath(f.path)
    try:
        handle = adapter.open(rel)
    except StorageUnavailable as exc:
        raise HTTPException(503, f"storage instance {f.storage.name} is unavailable "
                            f"({exc.reason}); try again later") from exc

    def chunks():
        with handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    name = rel.rsplit("/", 1)[-1]
    return StreamingResponse(chunks(), media_type="application/octet-stream",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
