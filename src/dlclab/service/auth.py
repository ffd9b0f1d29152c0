"""Who is asking: JupyterHub identity for the Data Aggregation Service.

Programs send a hub token (``Authorization: token <t>`` or ``Bearer <t>``); browsers go
through the hub's OAuth (``/oauth_callback`` stores the token in an HttpOnly cookie).
Every token is checked by the hub (``jupyterhub.services.auth.HubOAuth``) and must carry
the service's access scope (``access:services!service=data-aggregation``). The user's hub
groups decide which storages and releases they see (``public`` for everyone).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import quote

from fastapi import HTTPException, Request

from dlclab.metadata.models import PUBLIC

TOKEN_COOKIE = "dlclab-das-token"
STATE_COOKIE = "dlclab-das-state"


@dataclass(frozen=True)
class User:
    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False

    @property
    def access_groups(self) -> frozenset[str]:
        return self.groups | {PUBLIC}


#: who sent no credential at all: sees what ``public`` may (only routes that depend on
#: :func:`dlclab.service.dependencies.optional_user` ever get it)
ANONYMOUS = User(name="")


def header_token(request: Request) -> str | None:
    """The token of an ``Authorization: token|Bearer <t>`` header (a program), or None."""
    kind, _, value = request.headers.get("authorization", "").partition(" ")
    if kind.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


class HubIdentity:
    """Resolve requests to hub users through ``HubOAuth`` (created on first use, because it
    reads the service environment JupyterHub gives a managed service)."""

    def __init__(self, hub_api_url: str | None = None) -> None:
        self.hub_api_url = hub_api_url
        self._auth = None

    @property
    def auth(self):  # noqa: ANN201 - jupyterhub.services.auth.HubOAuth
        if self._auth is None:
            from jupyterhub.services.auth import HubOAuth

            kwargs = {"cache_max_age": 60}
            if self.hub_api_url:
                kwargs["api_url"] = self.hub_api_url
            self._auth = HubOAuth(**kwargs)
        return self._auth

    @staticmethod
    def token_of(request: Request) -> str | None:
        return header_token(request) or request.cookies.get(TOKEN_COOKIE)

    async def user(self, request: Request) -> User:
        token = self.token_of(request)
        if not token:
            raise HTTPException(401, "authentication required: send a JupyterHub token "
                                "('Authorization: token ...') or log in through the hub")
        model = await self.auth.user_for_token(token, sync=False)
        if not model or model.get("kind", "user") != "user":
            raise HTTPException(401, "the hub does not accept this token (expired or revoked?)")
        if not self.auth.check_scopes(self.auth.access_scopes, model):
            raise HTTPException(403, f"user {model.get('name')!r} lacks the scope "
                                f"{sorted(self.auth.access_scopes)} for this service")
        groups = model.get("groups")
        if groups is None:
            groups = await self._groups_of(model["name"])
        return User(name=model["name"], groups=frozenset(groups), admin=bool(model.get("admin")))

    async def _groups_of(self, name: str) -> list[str]:
        """Groups through the service's own token (needs ``read:users:groups``)."""
        reply = await self.auth._api_request(  # noqa: SLF001 - HubAuth's authenticated client
            "GET", f"{self.auth.api_url}/users/{quote(name)}",
            headers={"Authorization": f"token {self.auth.api_token}"})
        return list(reply.get("groups") or [])

    async def current(self, user: User) -> User:
        """``user`` with the groups the hub has for them *now*: the token's model is cached
        (``cache_max_age``), so a group removal would otherwise take that long to count.
        One hub request; used where data leaves the service (export status, download)."""
        from tornado.web import HTTPError  # what HubAuth's client raises

        try:
            groups = await self._groups_of(user.name)
        except HTTPError as exc:  # fail closed: never serve on groups that may be stale
            raise HTTPException(503, f"could not read the current groups of {user.name!r} "
                                f"from the hub ({exc.log_message}); try again") from exc
        return User(name=user.name, groups=frozenset(groups), admin=user.admin)

    def login_redirect(self, request: Request, next_url: str) -> tuple[str, str]:
        """URL of the hub's OAuth authorize page and the state value to keep in a cookie."""
        state = secrets.token_urlsafe(16)
        url = f"{self.auth.login_url}&state={quote(state)}"
        return url, f"{state}|{next_url}"

    async def token_for_code(self, code: str) -> str:
        return await self.auth.token_for_code(code, sync=False)
