"""OAI-PMH 2.0 over the releases (the protocol itself is :mod:`dlclab.service.oai`)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dlclab.service.dependencies import ERRORS, SessionDep, UserDep, seen_by

router = APIRouter()


@router.get("/oai", response_class=Response, responses={200: {"content": {"text/xml": {}}}, **ERRORS})
def oai(request: Request, user: UserDep, s: SessionDep):
    params = {k: v for k, v in request.query_params.items()}
    body = request.app.state.oai.respond(s, seen_by(s, user), params)
    return Response(body, media_type="text/xml; charset=utf-8")
