"""KCDC-DataShop-style export requests: submitted, listed, downloaded and deleted by their
owner. Status and download check again that the owner may still read everything the
export was made from (:mod:`dlclab.service.access`), with their groups as the hub has them
now; new requests count against the owner's quota (:mod:`dlclab.service.quota`)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.metadata.models import ExportRequest
from dlclab.service import schemas
from dlclab.service.access import lost_access
from dlclab.service.auth import User
from dlclab.service.dependencies import (ERRORS, MemberDep, SessionDep, SettingsDep,
                                         ThesaurusDep, UserDep, build_query, clean_names,
                                         seen_by)
from dlclab.service.exports import ExportManager
from dlclab.service.quota import QuotaExceeded

router = APIRouter(responses=ERRORS)


def export_out(r: ExportRequest, prefix: str, refused: str | None = None) -> dict:
    """The API's view of a request; ``refused``: why its owner may no longer have it."""
    return dict(id=r.id, status=r.status, created_utc=r.created_utc, updated_utc=r.updated_utc,
                expires_utc=r.expires_utc, parameters=r.parameters, n_events=r.n_events,
                size_bytes=r.size_bytes, error=refused or r.error,
                download_url=(f"{prefix}/api/exports/{r.id}/download"
                              if r.status == "done" and refused is None else None))


def own_export(s: Session, user: User, request_id: str) -> ExportRequest:
    r = s.get(ExportRequest, request_id) if len(request_id) <= 36 else None
    # another user's request does not exist for you (no 403 that confirms its id)
    if r is None or r.owner != user.name:
        raise HTTPException(404, f"no export request {request_id!r} of yours")
    return r


def readable_export(s: Session, user: User, request_id: str) -> ExportRequest:
    """The user's request, if they may still read every storage and release in it (403
    naming the first one they lost otherwise). A request not done yet has no data to
    guard; the worker checks access itself."""
    r = own_export(s, user, request_id)
    if r.status == "done":
        problem = lost_access(s, r.id, r.sources, seen_by(s, user))
        if problem is not None:
            raise HTTPException(403, problem)
    return r


@router.post("/exports", response_model=schemas.ExportOut, status_code=202,
             responses={429: {"model": schemas.ErrorOut,
                              "description": "the owner's export quota is used up"}})
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
    try:
        r = manager.submit(user.name, user.access_groups, params, fq, fq.cuts, quantities)
    except QuotaExceeded as exc:
        raise HTTPException(429, str(exc)) from exc
    return export_out(r, settings.norm_prefix)


@router.get("/exports", response_model=list[schemas.ExportOut])
def my_exports(user: UserDep, s: SessionDep, settings: SettingsDep):
    """All of the user's requests; one whose data they may no longer read is listed
    without a download link and with the reason as its error."""
    rows = list(s.scalars(select(ExportRequest).where(ExportRequest.owner == user.name)
                          .order_by(ExportRequest.created_utc.desc())))
    seen = seen_by(s, user)
    return [export_out(r, settings.norm_prefix,
                       lost_access(s, r.id, r.sources, seen) if r.status == "done" else None)
            for r in rows]


@router.get("/exports/{request_id}", response_model=schemas.ExportOut)
def export_status(request_id: str, user: MemberDep, s: SessionDep, settings: SettingsDep):
    return export_out(readable_export(s, user, request_id), settings.norm_prefix)


@router.delete("/exports/{request_id}", status_code=204, response_class=Response)
def delete_export(request_id: str, user: UserDep, s: SessionDep, request: Request):
    """Delete one of your requests and its file (frees its place in your quota)."""
    r = own_export(s, user, request_id)
    s.close()  # the manager deletes in its own transaction
    request.app.state.exports.delete(r.id)
    return Response(status_code=204)


@router.get("/exports/{request_id}/download", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}},
                       409: {"model": schemas.ErrorOut}, 410: {"model": schemas.ErrorOut}})
def export_download(request_id: str, user: MemberDep, s: SessionDep, settings: SettingsDep):
    r = own_export(s, user, request_id)
    if r.status == "expired" or (r.status == "done" and r.expires_utc < datetime.now(
            timezone.utc).replace(tzinfo=None)):
        raise HTTPException(410, f"export {request_id} expired at {r.expires_utc}Z")
    if r.status != "done":
        raise HTTPException(409, f"export {request_id} is {r.status}"
                            + (f": {r.error}" if r.error else ""))
    r = readable_export(s, user, request_id)
    path = settings.export_dir / r.result_name
    return FileResponse(path, filename=f"dlclab-export-{r.result_name}",
                        media_type="application/octet-stream")
