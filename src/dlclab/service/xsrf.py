"""Cross-site request forgery guard for requests the login cookie authenticates.

A browser sends the service's cookie with any request to the lab's host, including one a
page of another site (or a sibling host: SameSite=Lax does not separate
``evil.lab.example.org`` from ``lab.example.org``) makes it send. So every state-changing
request (POST, PUT, PATCH, DELETE) that the cookie would authenticate must pass two checks:

1. its ``Origin`` header (``Referer`` when a browser sends no Origin) is the lab's own
   origin: :attr:`ServiceSettings.public_url`, or without it the request's ``Host``;
2. it carries ``X-XSRF-Token``, a value derived from the cookie's token that only the
   service's own page knows (it is written into the page; another origin can read neither
   the page nor the HttpOnly cookie).

Requests with ``Authorization: token ...`` are programs: a browser never adds that header
by itself (another origin would need a CORS preflight, which the service does not
answer), so they are not checked. The refusal is a 403 saying what was missing.
"""
from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from dlclab.service.auth import TOKEN_COOKIE, header_token

XSRF_HEADER = "X-XSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def xsrf_token(cookie_token: str) -> str:
    """The page's XSRF value for a login token: a one-way digest (the token cannot be
    recovered from it), the same in every replica and across restarts."""
    return hmac.new(b"dlclab-das-xsrf", cookie_token.encode(), hashlib.sha256).hexdigest()


def origin_of(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an Origin/Referer value or a URL; None if malformed."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]


def same_origin(claimed: tuple[str, str, int], request: Request, public_url: str | None) -> bool:
    if public_url:
        return claimed == origin_of(public_url)
    # no configured URL: the Host the browser addressed, which the hub's proxy passes on
    # unchanged (the scheme is not compared: TLS may end in front of the proxy)
    host = origin_of(f"{claimed[0]}://{request.headers.get('host', '')}")
    return host is not None and claimed[1:] == host[1:]


def refusal(request: Request, public_url: str | None) -> str | None:
    """Why a cookie-authenticated, state-changing ``request`` is refused, or None."""
    expected = public_url or f"the page's own origin (Host {request.headers.get('host')!r})"
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return (f"cross-site request refused: {request.method} with the login cookie "
                    f"needs an Origin or Referer header from {expected}; programs send "
                    "'Authorization: token ...' instead")
        origin, source = referer, "Referer"
    else:
        source = "Origin"
    claimed = origin_of(origin)
    if claimed is None or not same_origin(claimed, request, public_url):
        return (f"cross-site request refused: {source} {origin[:200]!r} is not {expected}; "
                "the login cookie only works for requests from the service's own pages")
    sent = request.headers.get(XSRF_HEADER, "")
    cookie = request.cookies.get(TOKEN_COOKIE, "")
    if not sent or not hmac.compare_digest(sent, xsrf_token(cookie)):
        return (f"cross-site request refused: {request.method} with the login cookie needs "
                f"the {XSRF_HEADER} header of the service's page "
                f"({'wrong value' if sent else 'missing'}; reload the page)")
    return None


class XsrfGuard:
    """ASGI middleware applying :func:`refusal` before any route runs (so a route added
    later is covered too)."""

    def __init__(self, app: ASGIApp, public_url: str | None) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            request = Request(scope)
            # the same choice the identity makes: a token header wins over the cookie
            if header_token(request) is None and request.cookies.get(TOKEN_COOKIE):
                problem = refusal(request, self.public_url)
                if problem is not None:
                    await JSONResponse({"detail": problem}, status_code=403)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
