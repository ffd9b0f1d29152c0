"""The service's web page, the hub's OAuth round trip, and the OpenAPI document."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dlclab.service.auth import STATE_COOKIE, TOKEN_COOKIE
from dlclab.service.dependencies import SettingsDep, UserDep

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
def openapi(user: UserDep, request: Request):
    return request.app.openapi()


@router.get("/", response_class=HTMLResponse)
async def page(request: Request, settings: SettingsDep):
    prefix = settings.norm_prefix
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


@router.get("/oauth_callback")
async def oauth_callback(request: Request, settings: SettingsDep, code: str = "", state: str = ""):
    prefix = settings.norm_prefix
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
