"""The Data Aggregation Service: FastAPI app (REST + OpenAPI, OAI-PMH, a small web page).

Every route but the static assets needs a hub identity (:mod:`dlclab.service.auth`);
what a user sees follows their hub groups (:func:`dlclab.metadata.query.visibility`).
Tests of non-security logic may override :func:`current_user`; the security tests run
against a real hub.
"""
from __future__ import annotations

import json
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.errors import DlclabError, ParameterError
from dlclab.metadata.db import open_catalogue
from dlclab.metadata.models import DataFile, ExportRequest, Release, StorageInstance, ThesaurusTerm
from dlclab.metadata.query import FileQuery, Visibility, parse_cut, query_files, visibility
from dlclab.metadata.thesaurus import default_thesaurus
from dlclab.service import schemas
from dlclab.service.adapters import adapter_for, safe_relpath
from dlclab.service.auth import STATE_COOKIE, TOKEN_COOKIE, HubIdentity, User
from dlclab.service.exports import ExportManager
from dlclab.service.oai import PREFIX as OAI_PREFIX
from dlclab.service.oai import OaiRepository, provenance_of
from dlclab.service.settings import ServiceSettings

STATIC = Path(__file__).resolve().parent / "static"
ERRORS = {400: {"model": schemas.ErrorOut}, 401: {"model": schemas.ErrorOut},
          403: {"model": schemas.ErrorOut}, 404: {"model": schemas.ErrorOut}}


async def current_user(request: Request) -> User:
    """The hub user behind the request (401 without a valid token, 403 without the scope)."""
    return await request.app.state.identity.user(request)


UserDep = Annotated[User, Depends(current_user)]


def catalogue_session(request: Request):
    with Session(request.app.state.engine, expire_on_commit=False) as s:
        yield s


SessionDep = Annotated[Session, Depends(catalogue_session)]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _clean(values: list[str], name: str) -> list[str]:
    for value in values:
        if not value or len(value) > 64 or "\x00" in value or not value.isprintable():
            raise ParameterError(f"{name}={value!r}: expected a printable name of 1..64 characters")
    return values


def create_app(settings: ServiceSettings, identity: HubIdentity | None = None) -> FastAPI:
    prefix = settings.norm_prefix

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.engine = open_catalogue(settings.db_url)
        app.state.exports = ExportManager(app.state.engine, settings.export_dir,
                                          timedelta(seconds=settings.export_ttl_s),
                                          settings.export_workers, settings.export_max_events)
        yield
        app.state.exports.shutdown()
        app.state.engine.dispose()

    app = FastAPI(title="dlclab Data Aggregation Service",
                  description="Queries across the lab's storage instances (TAIGA, KASCADE), "
                  "KCDC-style export requests and OAI-PMH records of the releases. "
                  "Authenticate with a JupyterHub token: `Authorization: token <token>`.",
                  version="1.0", lifespan=lifespan,
                  # the OpenAPI document is served below, behind authentication; no Swagger
                  # UI: it would load its assets from a CDN
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.identity = identity or HubIdentity(settings.hub_api_url)
    app.state.oai = OaiRepository(base_url=f"{prefix}/")
    thesaurus = default_thesaurus()

    @app.exception_handler(DlclabError)
    async def _dlclab_error(request: Request, exc: DlclabError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    def seen_by(s: Session, user: User) -> Visibility:
        return visibility(s, user.access_groups)

    def refuse_named(s: Session, seen: Visibility, storages: list[str], release: str | None) -> None:
        """A named storage or release the user may not see is refused with 403."""
        for name in storages:
            row = s.scalar(select(StorageInstance).where(StorageInstance.name == name))
            if row is not None and row.id not in seen.storage_ids:
                raise HTTPException(403, f"storage {name!r} is internal to the "
                                    f"{row.access_group.name!r} collaboration")
        if release:
            for row in s.scalars(select(Release).where(Release.name == release)):
                if row.id not in seen.release_ids:
                    raise HTTPException(403, f"release {release!r} is internal to the "
                                        f"{row.access_group.name!r} collaboration")

    def record(f: DataFile) -> dict:
        return dict(uuid=f.uuid, storage=f.storage.name, path=f.path,
                    experiment=f.facility.experiment, facility=f.facility.name,
                    release=f.release.name if f.release else None, date=f.date,
                    sequence_number=f.sequence_number, version=f.current_version,
                    start_utc=f.start_utc, end_utc=f.end_utc, cluster=f.cluster, station=f.station,
                    n_events=f.n_events, size_bytes=f.size_bytes, status=f.status,
                    data_url=f"{prefix}/api/files/{f.uuid}/data")

    def export_out(r: ExportRequest) -> dict:
        return dict(id=r.id, status=r.status, created_utc=r.created_utc, updated_utc=r.updated_utc,
                    expires_utc=r.expires_utc, parameters=r.parameters, n_events=r.n_events,
                    error=r.error, download_url=(f"{prefix}/api/exports/{r.id}/download"
                                                 if r.status == "done" else None))

    def build_query(s: Session, seen: Visibility, q: schemas.QueryIn, cuts: list[str],
                    limit: int = 100, offset: int = 0, include_errors: bool = False) -> FileQuery:
        _clean(q.experiment, "experiment"), _clean(q.facility, "facility")
        _clean(q.storage, "storage"), _clean([q.release] if q.release else [], "release")
        refuse_named(s, seen, q.storage, q.release)
        return FileQuery(start=_utc(q.start), end=_utc(q.end), experiment=q.experiment,
                         facility=q.facility, cluster=q.cluster, station=q.station,
                         release=q.release, storage=q.storage,
                         cuts=[parse_cut(c, thesaurus) for c in _clean(cuts, "cut")],
                         limit=limit, offset=offset, include_errors=include_errors)

    api = APIRouter(prefix=f"{prefix}/api", responses=ERRORS)

    @api.get("/whoami", response_model=schemas.WhoAmI)
    def whoami(user: UserDep):
        return {"name": user.name, "groups": sorted(user.groups)}

    @api.get("/storages", response_model=list[schemas.Storage])
    def storages(user: UserDep, s: SessionDep):
        seen = seen_by(s, user)
        rows = s.scalars(select(StorageInstance).where(StorageInstance.id.in_(seen.storage_ids))
                         .order_by(StorageInstance.name))
        return [dict(name=r.name, experiment=r.experiment, access=r.access_group.name,
                     protocol=adapter_for(r.url).protocol) for r in rows]

    def release_out(r: Release) -> dict:
        return dict(uuid=r.uuid, experiment=r.experiment, name=r.name, version=r.version,
                    doi=r.doi, title=r.title, licence=r.licence, access=r.access_group.name,
                    provenance=provenance_of(r), oai_identifier=OAI_PREFIX + r.uuid)

    @api.get("/releases", response_model=list[schemas.ReleaseOut])
    def releases(user: UserDep, s: SessionDep):
        seen = seen_by(s, user)
        rows = s.scalars(select(Release).where(Release.id.in_(seen.release_ids)).order_by(Release.id))
        return [release_out(r) for r in rows]

    @api.get("/terms", response_model=list[schemas.TermOut])
    def terms(user: UserDep, s: SessionDep):
        rows = s.scalars(select(ThesaurusTerm).order_by(ThesaurusTerm.name))
        return [dict(name=t.name, unit=t.unit, level=t.level, description=t.description,
                     synonyms=[dict(name=x.name, experiment=x.experiment, unit=x.unit)
                               for x in t.synonyms]) for t in rows]

    @api.get("/files", response_model=schemas.FilePage)
    def files(user: UserDep, s: SessionDep,
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
        fq = build_query(s, seen, q, cut, limit, offset, include_errors)
        rows, more = query_files(s, fq, seen)
        return {"files": [record(f) for f in rows], "more": more, "offset": offset, "limit": limit}

    def visible_file(s: Session, user: User, file_uuid: str) -> DataFile:
        row = s.scalar(select(DataFile).where(DataFile.uuid == file_uuid))
        if row is None:
            raise HTTPException(404, f"no file with uuid {file_uuid!r}")
        if not seen_by(s, user).allows_file(row):
            raise HTTPException(403, f"file {file_uuid} is internal to a collaboration you are "
                                "not a member of")
        return row

    @api.get("/files/{file_uuid}", response_model=schemas.FileDetail)
    def file_detail(file_uuid: str, user: UserDep, s: SessionDep):
        f = visible_file(s, user, file_uuid)
        units = dict(s.execute(select(ThesaurusTerm.id, ThesaurusTerm.unit)).all())
        names = dict(s.execute(select(ThesaurusTerm.id, ThesaurusTerm.name)).all())
        current = f.versions[-1]
        out = record(f)
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

    @api.get("/files/{file_uuid}/data", response_class=StreamingResponse,
             responses={200: {"content": {"application/octet-stream": {}}}})
    def file_data(file_uuid: str, user: UserDep, s: SessionDep):
        f = visible_file(s, user, file_uuid)
        adapter = adapter_for(f.storage.url)
        rel = safe_relpath(f.path)
        handle = adapter.open(rel)

        def chunks():
            with handle:
                while chunk := handle.read(1 << 20):
                    yield chunk

        name = rel.rsplit("/", 1)[-1]
        return StreamingResponse(chunks(), media_type="application/octet-stream",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @api.post("/exports", response_model=schemas.ExportOut, status_code=202)
    def create_export(body: schemas.ExportIn, user: UserDep, s: SessionDep, request: Request):
        seen = seen_by(s, user)
        fq = build_query(s, seen, body.query, body.cuts)
        _clean(body.components, "components"), _clean(body.quantities, "quantities")
        quantities = [thesaurus.resolve(q).term.name for q in body.quantities]
        manager: ExportManager = request.app.state.exports
        manager.expire()
        params = {"format": body.format, "query": json.loads(body.query.model_dump_json()),
                  "components": body.components, "quantities": quantities, "cuts": body.cuts}
        r = manager.submit(user.name, user.access_groups, params, fq, fq.cuts, quantities)
        return export_out(r)

    @api.get("/exports", response_model=list[schemas.ExportOut])
    def my_exports(user: UserDep, s: SessionDep):
        rows = s.scalars(select(ExportRequest).where(ExportRequest.owner == user.name)
                         .order_by(ExportRequest.created_utc.desc()))
        return [export_out(r) for r in rows]

    def own_export(s: Session, user: User, request_id: str) -> ExportRequest:
        r = s.get(ExportRequest, request_id) if len(request_id) <= 36 else None
        # another user's request does not exist for you (no 403 that confirms its id)
        if r is None or r.owner != user.name:
            raise HTTPException(404, f"no export request {request_id!r} of yours")
        return r

    @api.get("/exports/{request_id}", response_model=schemas.ExportOut)
    def export_status(request_id: str, user: UserDep, s: SessionDep):
        return export_out(own_export(s, user, request_id))

    @api.get("/exports/{request_id}/download", response_class=FileResponse,
             responses={200: {"content": {"application/octet-stream": {}}}, 409: {"model": schemas.ErrorOut},
                        410: {"model": schemas.ErrorOut}})
    def export_download(request_id: str, user: UserDep, s: SessionDep, request: Request):
        r = own_export(s, user, request_id)
        if r.status == "expired" or (r.status == "done" and r.expires_utc < datetime.now(
                timezone.utc).replace(tzinfo=None)):
            raise HTTPException(410, f"export {request_id} expired at {r.expires_utc}Z")
        if r.status != "done":
            raise HTTPException(409, f"export {request_id} is {r.status}"
                                + (f": {r.error}" if r.error else ""))
        path = settings.export_dir / r.result_name
        return FileResponse(path, filename=f"dlclab-export-{r.result_name}",
                            media_type="application/octet-stream")

    app.include_router(api)

    @app.get(f"{prefix}/openapi.json", include_in_schema=False)
    def openapi(user: UserDep):
        return app.openapi()

    @app.get(f"{prefix}/oai", response_class=Response, responses={
        200: {"content": {"text/xml": {}}}, **ERRORS})
    def oai(request: Request, user: UserDep, s: SessionDep):
        params = {k: v for k, v in request.query_params.items()}
        body = request.app.state.oai.respond(s, seen_by(s, user), params)
        return Response(body, media_type="text/xml; charset=utf-8")

    # -- the web page and the hub's OAuth ------------------------------------------------
    @app.get(f"{prefix}/", response_class=HTMLResponse, include_in_schema=False)
    async def page(request: Request):
        try:
            await request.app.state.identity.user(request)
        except HTTPException as exc:
            if exc.status_code != 401:
                raise
            url, state = request.app.state.identity.login_redirect(request, f"{prefix}/")
            response = RedirectResponse(url, status_code=302)
            response.set_cookie(STATE_COOKIE, state, httponly=True, samesite="lax",
                                path=prefix or "/", max_age=600)
            return response
        return HTMLResponse((STATIC / "index.html").read_text().replace("{{PREFIX}}", prefix))

    @app.get(f"{prefix}/oauth_callback", include_in_schema=False)
    async def oauth_callback(request: Request, code: str = "", state: str = ""):
        kept = request.cookies.get(STATE_COOKIE, "")
        kept_state, _, next_url = kept.partition("|")
        if not code or not state or state != kept_state:
            raise HTTPException(400, "OAuth state mismatch: start again from the service page")
        token = await request.app.state.identity.token_for_code(code)
        if not next_url.startswith(prefix + "/"):
            next_url = f"{prefix}/"
        response = RedirectResponse(next_url, status_code=302)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax", path=prefix or "/")
        response.delete_cookie(STATE_COOKIE, path=prefix or "/")
        return response

    app.mount(f"{prefix}/static", StaticFiles(directory=STATIC), name="static")
    return app
