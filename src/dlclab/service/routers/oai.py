"""OAI-PMH 2.0 over the releases (the protocol itself is :mod:`dlclab.service.oai`).

The one route open without a hub identity: an anonymous harvester gets the public
records, a member's token adds the collaboration's. GET only (no state changes, so the
cross-site guard has nothing to check and no POST form of the protocol is offered)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dlclab.service.dependencies import ERRORS, OptionalUserDep, SessionDep, seen_by

router = APIRouter()


@router.get("/oai", response_class=Response, responses={200: {"content": {"text/xml": {}}}, **ERRORS})
def oai(request: Request, user: OptionalUserDep, s: SessionDep):
    items = request.query_params.multi_items()
    params = dict(items)
    repeated = sorted({k for k, _ in items if sum(1 for j, _ in items if j == k) > 1})
    body = request.app.state.oai.respond(s, seen_by(s, user), params, repeated)
    return Response(body, media_type="text/xml; charset=utf-8")
