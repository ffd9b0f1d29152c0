"""The service's web page, the hub's OAuth round trip, and the OpenAPI document.

The page carries the XSRF value of its login cookie (:func:`dlclab.service.xsrf.xsrf_token`)
in a ``<meta>`` tag; its script sends it with every state-changing request."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dlclab.service.auth import STATE_COOKIE, TOKEN_COOKIE
from dlclab.service.dependencies import SettingsDep, UserDep
from dlclab.service.xsrf import xsrf_token

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
                            secure=settings.secure_cookies, path=prefix or "/", max_age=600)
        return response
    cookie = request.cookies.get(TOKEN_COOKIE)
    html = (STATIC / "index.html").read_text().replace("{{PREFIX}}", prefix)
    # hex digits only, so nothing to escape; empty for a program that sent a token header
    html = html.replace("{{XSRF}}", xsrf_token(cookie) if cookie else "")
    # the page holds the XSRF value: no caching, no framing by other sites
    return HTMLResponse(html, headers={"Cache-Control": "no-store",
                                       "X-Frame-Options": "DENY",
                                       "Content-Security-Policy": "frame-ancestors 'none'"})


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
    # SameSite=Lax: no cookie on cross-site subrequests or POSTs (the XSRF guard covers
    # same-site ones); Strict would drop it whenever a user follows a link to the page
    # from another site, a new OAuth round trip each time
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path=prefix or "/")
    response.delete_cookie(STATE_COOKIE, path=prefix or "/")
    return response
