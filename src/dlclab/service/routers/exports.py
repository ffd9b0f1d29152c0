"""KCDC-DataShop-style export requests: submitted, listed and downloaded by their owner."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.metadata.models import ExportRequest
from dlclab.service import schemas
from dlclab.service.auth import User
from dlclab.service.dependencies import (ERRORS, SessionDep, SettingsDep, ThesaurusDep, UserDep,
                                         build_query, clean_names, seen_by)
from dlclab.service.exports import ExportManager

router = APIRouter(responses=ERRORS)


def export_out(r: ExportRequest, prefix: str) -> dict:
    return dict(id=r.id, status=r.status, created_utc=r.created_utc, updated_utc=r.updated_utc,
                expires_utc=r.expires_utc, parameters=r.parameters, n_events=r.n_events,
                error=r.error, download_url=(f"{prefix}/api/exports/{r.id}/download"
                                             if r.status == "done" else None))


def own_export(s: Session, user: User, request_id: str) -> ExportRequest:
    r = s.get(ExportRequest, request_id) if len(request_id) <= 36 else None
    # another user's request does not exist for you (no 403 that confirms its id)
    if r is None or r.owner != user.name:
        raise HTTPException(404, f"no export request {request_id!r} of yours")
    return r


@router.post("/exports", response_model=schemas.ExportOut, status_code=202)
def create_export(body: schemas.ExportIn, user: UserDep, s: SessionDep, settings: SettingsDep,
                  thesaurus: ThesaurusDep, request: Request):
    seen = seen_by(s, user)
    fq = build_query(s, seen, thesaurus, body.query, body.cuts)
    clean_names(body.components, "components"), clean_names(body.quantities, "quantities")
    quantities = [thesaurus.resolve(q).term.name for q in body.quantities]
    manager: ExportManager = request.app.state.exports
    manager.expire()
    params = {"format": body.format, "query": json.loads(body.query.model_dump_json()),
              "components": body.components, "quantities": quantities, "cuts": body.cuts}
    r = manager.submit(user.name, user.access_groups, params, fq, fq.cuts, quantities)
    return export_out(r, settings.norm_prefix)


@router.get("/exports", response_model=list[schemas.ExportOut])
def my_exports(user: UserDep, s: SessionDep, settings: SettingsDep):
    rows = s.scalars(select(ExportRequest).where(ExportRequest.owner == user.name)
                     .order_by(ExportRequest.created_utc.desc()))
    return [export_out(r, settings.norm_prefix) for r in rows]


@router.get("/exports/{request_id}", response_model=schemas.ExportOut)
def export_status(request_id: str, user: UserDep, s: SessionDep, settings: SettingsDep):
    return export_out(own_export(s, user, request_id), settings.norm_prefix)


@router.get("/exports/{request_id}/download", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}},
                       409: {"model": schemas.ErrorOut}, 410: {"model": schemas.ErrorOut}})
def export_download(request_id: str, user: UserDep, s: SessionDep, settings: SettingsDep):
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
